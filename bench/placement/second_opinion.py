"""Where does PEFT's second list schedule pay? The data behind
`place.SECOND_OPINION`: per instance, HEFT's and PEFT's makespans as ratios
of the lower bound, PEFT against HEFT, and whether the rule runs PEFT.

    python bench/placement/second_opinion.py                                 # 9 workflows x 3 capacities x 200, 1,000, 5,000
    python bench/placement/second_opinion.py --sizes 2000 20000              # the larger ones (minutes)

Both schedules run to the end (no giving up), under the plain makespan
objective, capacity as in workflows.CAPACITY, CCR 1, seed 1. Prints a
Markdown table and a summary: the PEFT wins the rule skips, and how far
PEFT was from HEFT where it does.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [os.environ.get("MLC_BENCH_CODE", str(HERE.parent.parent)), str(HERE)]

import workflows  # noqa: E402

from compiler.placement.listsched import policy_for, run  # noqa: E402
from compiler.placement.model import build  # noqa: E402
from compiler.placement.place import SECOND_OPINION  # noqa: E402
from compiler.placement.ranks import lower_bound, optimistic_cost_table, row_means, upward_rank  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", nargs="+", default=sorted(workflows.RECIPES))
    parser.add_argument("--capacity", nargs="+", default=["scarce", "medium", "plentiful"],
                        choices=sorted(workflows.CAPACITY))
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5000])
    args = parser.parse_args()
    gc.disable()  # as place() runs
    print("| workflow | capacity | tasks | HEFT / bound | PEFT / bound | PEFT against HEFT | PEFT runs |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    skipped_wins, run_count, total = [], 0, 0
    for workflow in args.workflows:
        for capacity in args.capacity:
            for size in args.sizes:
                problem = build(workflows.experiment(workflows.generate(workflow, size, 1), capacity, 1.0))
                policy = policy_for(problem, problem.experiment.objective)
                heft = run(problem, upward_rank(problem), policy, "heft").makespan
                table = optimistic_cost_table(problem)
                peft = run(problem, row_means(table), policy, "peft", lookahead=table).makespan
                bound = lower_bound(problem)
                runs = heft >= SECOND_OPINION * bound
                change = 100 * (peft / heft - 1) if heft else 0.0
                total += 1
                run_count += runs
                if not runs and peft < heft:
                    skipped_wins.append(f"{workflow} {capacity} {problem.n} ({change:+.2f}%)")
                print(f"| {workflow} | {capacity} | {problem.n:,} | {heft / bound:.3f} | {peft / bound:.3f} | "
                      f"{change:+.2f}% | {'yes' if runs else 'no'} |", flush=True)
    print(f"\n{total} instances; PEFT runs on {run_count}; PEFT wins the rule skips: "
          f"{', '.join(skipped_wins) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
