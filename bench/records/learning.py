#!/usr/bin/env python3
"""Makespan prediction error before and after one recorded run, on the real
Slurm test cluster (`.ci/slurm-up`), written up in docs/benchmarks.md.

    python bench/records/learning.py [--scratch /tmp/mlc-slurm-scratch/bench-records]

1. `mlc plan --no-history`: the makespan predicted from the stated estimates.
2. `mlc run` in a fresh folder: the measured makespan (first step's start to
   the last step's end, from the run records) and the records.
3. `mlc plan` (learning from those records): the new prediction.
4. `mlc run` in a second fresh folder holding a copy of the records only:
   the makespan measured again, against which the new prediction is judged.
Error = |predicted - measured| / measured. Prints JSON and a Markdown table."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from compiler.records import store

SOURCE = ROOT / "bench" / "records" / "learning.mlx"
NAME = "records_learning"


def mlc(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "compiler.cli", *args], check=False, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"mlc {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def predicted(out: Path, scratch: Path, *flags: str) -> float:
    plan = json.loads(mlc("plan", str(SOURCE), "-o", str(out), "-p", f"scratch={scratch}", "--format", "json", *flags))
    return plan["makespan"]


def measured(out: Path, scratch: Path) -> float:
    before = {r.run_id for r in store.read(out / NAME)[0]}
    mlc("run", str(SOURCE), "-o", str(out), "-p", f"scratch={scratch}", "--no-history")
    steps = [s for s in store.read(out / NAME)[1] if s.run_id not in before]
    return max(s.end for s in steps) - min(s.start for s in steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/mlc-slurm-scratch/bench-records"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "first", Path(tmp) / "second"
        for n, out in enumerate((first, second)):
            (args.scratch / str(n)).mkdir(parents=True, exist_ok=True)
        before = predicted(first, args.scratch / "0", "--no-history")
        measured_first = measured(first, args.scratch / "0")
        (second / NAME / ".mlc").mkdir(parents=True)
        shutil.copy(first / NAME / store.STORE, second / NAME / store.STORE)
        after = predicted(second, args.scratch / "1")
        before_runs = {r.run_id for r in store.read(second / NAME)[0]}
        mlc("run", str(SOURCE), "-o", str(second), "-p", f"scratch={args.scratch / '1'}", "--no-history")
        steps = [s for s in store.read(second / NAME)[1] if s.run_id not in before_runs]
        measured_second = max(s.end for s in steps) - min(s.start for s in steps)
    result = {
        "before": {"predicted_s": before, "measured_s": round(measured_first, 1),
                   "error": round(abs(before - measured_first) / measured_first, 3)},
        "after": {"predicted_s": round(after, 1), "measured_s": round(measured_second, 1),
                  "error": round(abs(after - measured_second) / measured_second, 3)},
    }
    print(json.dumps(result, indent=2))
    print("\n| plan | predicted makespan | measured makespan | error |\n|---|---|---|---|")
    for label, key in (("stated estimates (`--no-history`)", "before"), ("after one recorded run", "after")):
        r = result[key]
        print(f"| {label} | {r['predicted_s']:.1f} s | {r['measured_s']:.1f} s | {r['error']:.0%} |")


if __name__ == "__main__":
    main()
