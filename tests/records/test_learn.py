"""Estimates learned from the records, and the plan rows that say so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from compiler.records import store
from tests.records.factory import run, step

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart.mlx"


def _plan(out: Path, *extra: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "compiler.cli", "plan", str(QUICKSTART), "-o", str(out),
                             "--format", "json", *extra], check=False, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return {a["unit"]: a for a in json.loads(result.stdout)["assignments"]}


def _record(out: Path) -> None:
    folder = out / "quickstart"
    steps = [step(rule="make_data", unit="make_data", stage="make_data", pool="laptop.local", elapsed_s=t)
             for t in (40.0, 60.0)]
    steps = [s.__class__(**{**s.__dict__, "run_id": f"r{i}"}) for i, s in enumerate(steps)]
    steps.append(step(run_id="r0", rule="score_a", unit="score[slope=2.0]", stage="score", pool="laptop.local",
                      elapsed_s=100.0))
    store.append(folder, run("r0", 1.0), [s for s in steps if s.run_id == "r0"])
    store.append(folder, run("r1", 2.0), [s for s in steps if s.run_id == "r1"])


def test_plan_uses_the_median_of_recorded_runs_and_says_so(tmp_path):
    _record(tmp_path)
    plan = _plan(tmp_path)
    make = plan["make_data"]
    assert make["finish"] - make["start"] == 50.0
    assert make["reason"].startswith("50s: median of 2 runs on laptop.local; ")
    own = plan["score[slope=2.0]"]
    assert own["finish"] - own["start"] == 100.0 and own["reason"].startswith("1m 40s: median of 1 run on")
    # a sweep member without runs of its own learns from its stage's
    other = plan["score[slope=3.0]"]
    assert other["reason"].startswith("1m 40s: median of 1 run of the stage on laptop.local")
    # pick has no record: the stated estimate, and the reason says nothing of runs
    assert plan["pick"]["finish"] - plan["pick"]["start"] == 1.0
    assert "median" not in plan["pick"]["reason"]


def test_no_history_plans_from_the_source_alone(tmp_path):
    _record(tmp_path)
    assert _plan(tmp_path, "--no-history") == _plan(tmp_path / "empty")


def test_compile_ignores_the_records_unless_asked(tmp_path):
    def compile_(*extra):
        return subprocess.run([sys.executable, "-m", "compiler.cli", "compile", str(QUICKSTART), "-o",
                               str(tmp_path), *extra], check=False, cwd=ROOT, capture_output=True, text=True)

    assert compile_().returncode == 0
    _record(tmp_path)
    check = compile_("--check")
    assert check.returncode == 0 and "up to date" in check.stdout, check.stdout + check.stderr
    learned = compile_("--check", "--history")
    assert learned.returncode == 1 and "plan.json" in learned.stderr
