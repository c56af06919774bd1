"""CPU time of `place()` as the workflow grows, and its growth exponent.

    python bench/placement/timing.py                                # SRASearch and Montage, 5,000 and 20,000 tasks
    python bench/placement/timing.py --sizes 1000 5000 --repeat 3
    MLC_BENCH_CODE=/tmp/old python bench/placement/timing.py       # another checkout's compiler: a "before"

CPU seconds (time.process_time, not wall clock: the machine is shared), the
median of --repeat runs, of the whole `place()` call (model, schedules,
plan and reasons), up to its return, with the cycle collector off, as
`mlc plan` runs it (the command line turns it off for its batch commands)
and as timeit times by default. So two costs `mlc plan` never pays stay
outside the clock: the young-generation collection a caller's collector
runs once place() turns it back on (0.07 s over the plan's 230,000
objects at SRASearch-20,000), and freeing the returned plan (0.05 s there;
`mlc plan` exits with it alive). The growth exponent between two sizes is
log(t2 / t1) / log(n2 / n1): 1 is linear; it is given per task and per
task plus dependency (the instances' edges: SRASearch's grow faster than
its tasks, and every pass reads each edge at least once). Prints a Markdown table (also
written to --output when given) for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import math
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

SEED = 1


def seconds(workflow: str, tasks: int, capacity: str, repeat: int) -> tuple[int, int, float, float]:
    """(tasks, edges, median CPU seconds, makespan) of placing one instance."""
    exp = workflows.experiment(workflows.generate(workflow, tasks, SEED), capacity, 1.0)
    edges = sum(len(port.outputs) for inst in exp.instances for port in inst.inputs)
    times, makespan = [], 0.0
    for _ in range(repeat):
        gc.disable()  # as `mlc plan` runs it (compiler/cli.py), and as timeit times
        try:
            began = time.process_time()
            plan = place(exp)
            times.append(time.process_time() - began)
        finally:
            gc.enable()
        # Freed once the clock has stopped: tearing down the plan is its
        # reader's cost, not place()'s (`mlc plan` keeps it to the end).
        makespan = plan.makespan
        del plan
    return len(exp.instances), edges, statistics.median(times), makespan


def table(rows: list[dict]) -> str:
    out = ["| workflow | capacity | tasks | edges | CPU (s) | exponent per task | per task + edge | makespan |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    previous: dict[tuple[str, str], dict] = {}
    for r in rows:
        key = (r["workflow"], r["capacity"])
        before = previous.get(key)
        growth = [""] * 2
        if before and r["tasks"] > before["tasks"] and before["seconds"] > 0:
            ratio = math.log(r["seconds"] / before["seconds"])
            growth = [f"{ratio / math.log(r['tasks'] / before['tasks']):.2f}",
                      f"{ratio / math.log((r['tasks'] + r['edges']) / (before['tasks'] + before['edges'])):.2f}"]
        out.append(f"| {r['workflow']} | {r['capacity']} | {r['tasks']:,} | {r['edges']:,} | {r['seconds']:.2f} | "
                   f"{growth[0]} | {growth[1]} | {r['makespan']:.1f} |")
        previous[key] = r
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", nargs="+", default=["srasearch", "montage"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--capacity", nargs="+", default=["medium"], choices=sorted(workflows.CAPACITY))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    rows = []
    for workflow in args.workflows:
        for capacity in args.capacity:
            for size in sorted(args.sizes):
                tasks, edges, cpu, makespan = seconds(workflow, size, capacity, args.repeat)
                rows.append({"workflow": workflow, "capacity": capacity, "tasks": tasks, "edges": edges,
                             "seconds": cpu, "makespan": makespan})
                print(f"{workflow:10} {capacity:9} {tasks:6} {cpu:.2f}s makespan {makespan:.1f}", file=sys.stderr,
                      flush=True)
    text = table(rows)
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
