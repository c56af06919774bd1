"""The whole benchmark pipeline at its smallest (one 50-task workflow, one
run, peers included) so that bench/run.py cannot rot. It proves that every
phase runs and reports, not how fast anything is; issue 19's phases and
their targets table are in test_issue19.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from suite.sweeps import KINDS

BENCH = Path(__file__).resolve().parents[2] / "bench"
RECIPE, TASKS = "epigenomics", 50  # the smallest size WfCommons makes for this recipe
SWEEP_MEMBERS = 20
LSP_STAGES = 50


def test_pipeline_runs_every_phase_and_writes_the_report(tmp_path):
    doc = tmp_path / "benchmarks.md"
    results = tmp_path / "results.json"
    command = [
        sys.executable, str(BENCH / "run.py"), "--quick", "--phases", "check,compile,sweep,profile,startup,lsp",
        "--sizes", str(TASKS), "--compile-sizes", str(TASKS), "--compile-recipes", RECIPE,
        "--recipes", RECIPE, "--peer-recipes", RECIPE, "--profile-recipe", RECIPE,
        "--profile-check-size", str(TASKS), "--profile-compile-size", str(TASKS),
        "--profile-before", str(BENCH.parent),  # the wiring of a "before" profile, here of this very checkout
        "--sweep-sizes", str(SWEEP_MEMBERS), "--lsp-stages", str(LSP_STAGES), "--startup-repeat", "1",
        "--timeout", "60", "--work", str(tmp_path / "work"), "--cache", str(tmp_path / "cache"),
        "--results", str(results), "--doc", str(doc), "--img", str(tmp_path / "img"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

    measured = json.loads(results.read_text())
    assert {r["phase"] for r in measured["records"]} == {"startup", "lsp"}
    measured = measured["measurements"]
    outcomes = {(m["phase"], m["recipe"], m["tool"]): [r["status"] for r in m["runs"]]
                for m in measured if m["phase"] != "sweep"}
    assert outcomes == {
        ("check", RECIPE, "mlc check"): ["ok"],
        ("check", RECIPE, "miniwdl check"): ["ok"],
        ("check", RECIPE, "snakemake -n"): ["ok"],
        ("compile", RECIPE, "mlc compile"): ["ok"],
        ("compile", RECIPE, "snakemake -n (mlc's Snakefile)"): ["ok"],
        # The same workflow with a Kubernetes cluster in the catalogue.
        ("compile", f"{RECIPE} on kubernetes", "mlc compile"): ["ok"],
        ("compile", f"{RECIPE} on kubernetes", "snakemake -n (mlc's Snakefile)"): ["ok"],
    }, "a tool failed on the smallest workflow; its log is under work/logs"
    kubernetes = tmp_path / "work" / f"{RECIPE}-{TASKS}-kubernetes" / "mlc" / "out"
    assert list(kubernetes.glob("*/k8s/cluster/run-*.sh")), "nothing was placed on the Kubernetes cluster"

    sweeps = {(m["recipe"], m["tool"]): [r["status"] for r in m["runs"]]
              for m in measured if m["phase"] == "sweep"}
    assert sweeps == {(kind, tool): ["ok"] for kind in KINDS for tool in ("mlc compile", "emit alone")}

    text = doc.read_text()
    for section in ("context", "check-table", "check-growth", "compile-table", "sweep-table", "profile",
                    "startup-table", "lsp-table", "issue19-targets"):
        assert f"<!-- begin generated: {section} -->" in text
    assert f"| {TASKS} | {RECIPE} |" in text
    assert f"| {SWEEP_MEMBERS} | kubernetes |" in text and f"| {TASKS} | {RECIPE} on kubernetes |" in text
    assert "| `mlc --version` | 1 |" in text and f"| {LSP_STAGES} | one | 1 |" in text
    assert "mlc check, epigenomics-50" in text and "mlc compile, epigenomics-50" in text
    before = text.split("<!-- begin generated: profile-before -->", 1)[1].split("<!-- end generated", 1)[0]
    assert f"**Before ({BENCH.parent}): mlc check, epigenomics-50" in before
