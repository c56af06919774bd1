"""A job record whose job mlc cancelled says so (`watched=ended`), so the
next run's submit script submits afresh instead of reattaching to it."""

from __future__ import annotations

from pathlib import Path

from compiler.runner import jobs


def test_stop_watching_marks_the_record_once(tmp_path: Path) -> None:
    record = tmp_path / ".mlc" / "jobs" / "train"
    record.parent.mkdir(parents=True)
    record.write_text("kind=slurm\nsite=hpc\nid=12\nlogin=\n", encoding="utf-8")
    jobs.stop_watching(tmp_path, "train")
    jobs.stop_watching(tmp_path, "train")
    assert jobs.job_record(tmp_path, "train") == {"kind": "slurm", "site": "hpc", "id": "12", "login": "",
                                                  "watched": "ended"}
    assert record.read_text(encoding="utf-8").count("watched=") == 1
