"""Placement benchmark: mlc's placer against HEFT and against the exact MILP
on WfCommons workflows over an HSE-like platform.

    python bench/placement/run.py                 # the full grid (tens of minutes)
    python bench/placement/run.py --sizes 200     # one size
    python bench/placement/run.py --smoke         # one small instance: the test suite's check

Writes a Markdown report (bench/placement/results.md by default).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This checkout's compiler, not an installed copy of it.
sys.path[:0] = [str(HERE.parent.parent), str(HERE)]

import workflows

from compiler.ir import Objective
from compiler.placement import exact, place
from compiler.placement.listsched import policy_for, run
from compiler.placement.model import build
from compiler.placement.place import heuristic
from compiler.placement.ranks import lower_bound, upward_rank

SEED = 1
TIE = 1e-3  # relative: closer than this to HEFT is a tie
CCRS = (0.1, 1.0, 10.0)
EXACT_SIZES = (10, 15, 20)
EXACT_TIME_LIMIT = 30.0


def heft(problem) -> float:
    """The baseline: HEFT with insertion, nothing else."""
    policy = policy_for(problem, Objective())
    return run(problem, upward_rank(problem), policy, "heft").makespan


def compare(workflow: str, tasks: int, capacity: str, ccr: float) -> dict:
    exp = workflows.experiment(workflows.generate(workflow, tasks, SEED), capacity, ccr)
    began = time.perf_counter()
    plan = place(exp)
    seconds = time.perf_counter() - began
    baseline = heft(build(exp))
    return {
        "workflow": workflow,
        "size": tasks,
        "tasks": len(exp.instances),
        "capacity": capacity,
        "ccr": ccr,
        "bound": plan.makespan / plan.lower_bound,
        "heft": plan.makespan / baseline,
        "cost": plan.cost,
        "seconds": seconds,
        "algorithm": plan.algorithm,
    }


def against_exact(workflow: str, tasks: int) -> dict:
    data = workflows.prefix(workflows.generate(workflow, 200, SEED), tasks)
    exp = workflows.experiment(data, "scarce", 1.0)
    problem = build(exp)
    objective = Objective()
    found = heuristic(problem, objective)
    solved = exact.solve(problem, objective, found.makespan, time_limit=EXACT_TIME_LIMIT, node_limit=10**7)
    best = solved.schedule.makespan if solved.schedule is not None else float("inf")
    return {
        "workflow": workflow,
        "tasks": problem.n,
        "heuristic": found.makespan,
        "exact": min(best, found.makespan),
        "optimal": solved.optimal,
        "dual": solved.bound,
        "bound": lower_bound(problem),
    }


def verdict(ratio: float) -> str:
    return "win" if ratio < 1 - TIE else "loss" if ratio > 1 + TIE else "tie"


def report(rows: list[dict], exact_rows: list[dict]) -> str:
    out = ["# Placement benchmark", ""]
    out += [
        "WfCommons workflows (seed 1) on the HSE-like platform of `bench/placement/workflows.py`:",
        "cHARISMa (Slurm: a GPU and a CPU partition), a priced Kubernetes cloud, a workstation.",
        "Every task asks for 8 cpus and 8 GiB; capacity ranges from one node per pool (scarce)",
        "to the real cluster sizes (plentiful); data sizes are scaled so that the mean transfer",
        "over the mean link takes CCR times the mean run time. Objective: makespan.",
        "`vs HEFT` is mlc's makespan over HEFT's (below 1: mlc is faster); `time` is the whole",
        "`place()` call, plan and reasons included, on the CI machine (2 cores, shared).",
        "",
    ]
    if rows:
        ratios = [r["heft"] for r in rows]
        verdicts = [verdict(x) for x in ratios]
        out += [
            "## Summary",
            "",
            (
                f"- instances: {len(rows)}; against HEFT: {verdicts.count('win')} wins, "
                f"{verdicts.count('tie')} ties, {verdicts.count('loss')} losses"
            ),
            (
                f"- makespan relative to HEFT: geometric mean {statistics.geometric_mean(ratios):.4f}, "
                f"best {min(ratios):.4f}, worst {max(ratios):.4f}"
            ),
            f"- makespan over the lower bound: mean {statistics.mean(r['bound'] for r in rows):.3f}",
        ]
        for size in sorted({r["size"] for r in rows}):
            times = [r["seconds"] for r in rows if r["size"] == size]
            out.append(f"- placement time at ~{size} tasks: median {statistics.median(times):.2f} s, max {max(times):.2f} s")
        out.append("")
    if exact_rows:
        gaps = [r["heuristic"] / r["exact"] - 1 for r in exact_rows]
        out += [
            "## Against the exact MILP",
            "",
            "The first 10, 15 and 20 tasks (topological order) of each workflow, scarce",
            f"capacity, CCR 1; HiGHS with a {EXACT_TIME_LIMIT:g} s limit. `gap` is the heuristic's makespan",
            "over the best exact makespan; when the MILP was stopped, `proven` says no and",
            "the `dual bound` is what is certain.",
            "",
            f"- mean gap {statistics.mean(gaps):.2%}, worst {max(gaps):.2%}",
            "",
            "| workflow | tasks | heuristic | exact | gap | proven | dual bound | lower bound |",
            "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
        ]
        for r, gap in zip(exact_rows, gaps):
            out.append(
                f"| {r['workflow']} | {r['tasks']} | {r['heuristic']:.1f} | {r['exact']:.1f} | {gap:.2%} | "
                f"{'yes' if r['optimal'] else 'no'} | {r['dual']:.1f} | {r['bound']:.1f} |"
            )
        out.append("")
    if rows:
        out += [
            "## Every instance",
            "",
            "| workflow | tasks | capacity | CCR | makespan / bound | vs HEFT | result | cost | time (s) | algorithm |",
            "| --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |",
        ]
        for r in rows:
            out.append(
                f"| {r['workflow']} | {r['tasks']} | {r['capacity']} | {r['ccr']:g} | {r['bound']:.3f} | "
                f"{r['heft']:.4f} | {verdict(r['heft'])} | {r['cost']:.2f} | {r['seconds']:.2f} | {r['algorithm']} |"
            )
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[200, 1000, 5000])
    parser.add_argument("--workflows", nargs="+", default=sorted(workflows.RECIPES))
    parser.add_argument("--no-exact", action="store_true", help="skip the comparison with the MILP")
    parser.add_argument("--smoke", action="store_true", help="one 200-task instance and one 10-task MILP")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    args = parser.parse_args()

    grid = [
        (w, size, capacity, ccr)
        for size in args.sizes
        for w in args.workflows
        for capacity in workflows.CAPACITY
        for ccr in CCRS
    ]
    exact_grid = [(w, size) for w in args.workflows for size in EXACT_SIZES]
    if args.smoke:
        grid, exact_grid = [("montage", 200, "medium", 1.0)], [("montage", 10)]
    if args.no_exact:
        exact_grid = []
    rows = []
    for point in grid:
        rows.append(compare(*point))
        r = rows[-1]
        print(f"{r['workflow']:12} {r['tasks']:5} {r['capacity']:9} {r['ccr']:5g} bound x{r['bound']:.3f} "
              f"heft x{r['heft']:.4f} {r['seconds']:.2f}s", flush=True)
    exact_rows = []
    for point in exact_grid:
        exact_rows.append(against_exact(*point))
        r = exact_rows[-1]
        print(f"exact {r['workflow']:12} {r['tasks']:3} heuristic {r['heuristic']:.1f} exact {r['exact']:.1f} "
              f"optimal {r['optimal']}", flush=True)
    args.output.write_text(report(rows, exact_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
