"""`mlc report` and the plan on bad input: usage errors and warnings, never an internal error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def mlc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], check=False, cwd=ROOT,
                          capture_output=True, text=True)


def test_a_missing_folder_is_a_usage_error(tmp_path):
    result = mlc("report", str(tmp_path / "nothing"))
    assert result.returncode == 2 and "No such file" in result.stderr and "internal" not in result.stderr


def test_a_store_that_is_not_sqlite_is_a_usage_error_for_report_and_a_warning_for_plan(tmp_path):
    store = tmp_path / "quickstart" / ".mlc" / "records.sqlite"
    store.parent.mkdir(parents=True)
    store.write_text("not a database\n")
    report = mlc("report", str(tmp_path / "quickstart"))
    assert report.returncode == 2 and "records.sqlite" in report.stderr and "internal" not in report.stderr
    plan = mlc("plan", "examples/quickstart.mlx", "-o", str(tmp_path))
    assert plan.returncode == 0 and "planning from the sources alone" in plan.stderr


def test_an_empty_folder_has_no_runs(tmp_path):
    result = mlc("report", str(tmp_path))
    assert result.returncode == 0 and "no runs recorded yet" in result.stdout
