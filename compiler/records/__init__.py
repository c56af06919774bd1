"""Run records (issue 17): what each step of each `mlc run` really used,
kept append-only in <folder>/.mlc/records.sqlite; the report made from
them, and the estimates the next plan learns from them. docs/records.md."""
