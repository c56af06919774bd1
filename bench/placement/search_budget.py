"""Where does the local search pay? The data behind `place.MIN_SEARCH`: per
size, how many instances the search improves with the budget it gets there
(`place.SEARCH_WORK` // tasks re-schedulings), and what it costs.

    python bench/placement/search_budget.py                              # 9 workflows x 3 capacities x 2,000 to 4,000
    python bench/placement/search_budget.py --sizes 1000 2100 2300       # others

Each instance is placed twice under the plain makespan objective (as
`heuristic` does, the better of HEFT and PEFT first): without the search,
and with it at the budget of its size, whatever MIN_SEARCH says. CPU
seconds of both. Capacity as in workflows.CAPACITY, CCR 1, seed 1. Prints
a Markdown table, a row per size: the re-schedulings the search gets there,
how many plans it improved (a shorter plan, or as short and cheaper), the
range of makespan gained where it improved, and the CPU it added.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [os.environ.get("MLC_BENCH_CODE", str(HERE.parent.parent)), str(HERE)]

import workflows  # noqa: E402

from compiler.placement.model import build  # noqa: E402
from compiler.placement.ranks import lower_bound  # noqa: E402
from compiler.placement.schedule import better, schedule_score  # noqa: E402

placing = importlib.import_module("compiler.placement.place")  # the module (the package exports the function)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", nargs="+", default=sorted(workflows.RECIPES))
    parser.add_argument("--capacity", nargs="+", default=["scarce", "medium", "plentiful"],
                        choices=sorted(workflows.CAPACITY))
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 2100, 2300, 2600, 3000, 3500, 4000])
    args = parser.parse_args()
    gc.disable()  # as place() runs
    placing.MIN_SEARCH = 1  # measure the search at every budget, whatever the rule
    print("| tasks (asked) | budget | instances | improved | makespan gained where improved | search CPU added |")
    print("| ---: | ---: | ---: | ---: | --- | ---: |")
    for size in args.sizes:
        budget = placing.SEARCH_WORK // size
        improved, total, gains, without, within = 0, 0, [], 0.0, 0.0
        for workflow in args.workflows:
            for capacity in args.capacity:
                problem = build(workflows.experiment(workflows.generate(workflow, size, 1), capacity, 1.0))
                objective = problem.experiment.objective
                bound = lower_bound(problem)
                began = time.process_time()
                plain = placing.heuristic(problem, objective, search=False, bound=bound)
                middle = time.process_time()
                searched = placing.heuristic(problem, objective, search=True, bound=bound)
                without += middle - began
                within += time.process_time() - middle
                total += 1
                if better(schedule_score(objective, searched), schedule_score(objective, plain)):
                    improved += 1
                    gains.append(100 * (1 - searched.makespan / plain.makespan))
        gained = f"{min(gains):.2f}-{max(gains):.2f}%" if gains else "-"
        added = f"+{100 * (within / without - 1):.0f}%" if without else "-"
        print(f"| {size:,} | {budget} | {total} | {improved} | {gained} | {added} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
