"""Best and median CPU seconds of `place()` on one bench instance, for
before/after comparisons on a loaded machine (run each compiler in turn,
one instance at a time):

    MLC_BENCH_CODE=/tmp/before python bench/placement/best_of.py srasearch 5000 medium --repeat 7
    python bench/placement/best_of.py srasearch 5000 medium --repeat 7

Prints "best median" (time.process_time of the whole call, plan and reasons
included; capacity as in workflows.CAPACITY, CCR 1, seed 1).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The compiler measured: this checkout's, unless MLC_BENCH_CODE names another.
sys.path[:0] = [os.environ.get("MLC_BENCH_CODE", str(HERE.parent.parent)), str(HERE)]

import workflows  # noqa: E402

from compiler.placement import place  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workflow", choices=sorted(workflows.RECIPES))
    parser.add_argument("tasks", type=int)
    parser.add_argument("capacity", choices=sorted(workflows.CAPACITY))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    exp = workflows.experiment(workflows.generate(args.workflow, args.tasks, 1), args.capacity, 1.0)
    times = []
    for _ in range(args.repeat):
        began = time.process_time()
        place(exp)
        times.append(time.process_time() - began)
    print(f"{min(times):.3f} {statistics.median(times):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
