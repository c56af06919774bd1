"""`place(experiment) -> Plan`: run the schedulers, keep the best plan.

HEFT produces a plan; PEFT competes with it unless HEFT's plan is already
close to the lower bound (`SECOND_OPINION`); a local search improves the
better one. A plan that still breaks the deadline or the budget is an
error, as is a unit no pool can run.

The plan depends on the sources only: the exact MILP (exact.py, an optional
extra) never replaces it; `mlc plan --exact` measures it against the MILP
(exact_check.py).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from math import inf

from ..diagnostics import Diagnostic
from ..ir import Experiment, Objective, Plan
from . import errors, reachability
from .listsched import NoCapacity, policy_for, run
from .model import Problem, build, never_done
from .plan import to_plan
from .ranks import (
    lower_bound,
    min_running_cost,
    optimistic_cost_table,
    row_means,
    upward_rank,
)
from .schedule import Schedule, beyond, schedule_score, violation
from .search import improve

# Re-schedulings the local search may spend, as units x re-schedulings: a
# fixed amount of work (not of seconds), so every run gives the same plan.
# About a second of Python: 100 re-schedulings of 200 units, 20 of 1,000,
# none above 2,222 (below MIN_SEARCH).
SEARCH_WORK = 20_000
# Fewer re-schedulings than this are spent on the first move alone (the last
# unit of the critical chain, two trials per other pool: eight on the bench's
# five pools), which its greedy choice already made as early as it can be:
# on the bench's 9 workflows x 3 capacities the search improved 11-12 of 27
# instances with 9-10 re-schedulings (2,000-2,100 tasks) and none of the 135
# with 8, 7, 6 or 5 (five sizes from 2,300 to 4,000 tasks), where it added
# 15-28% to the CPU (bench/placement/search_budget.py; docs/benchmarks.md).
MIN_SEARCH = 9

# Under the plain makespan objective PEFT runs only when HEFT's plan is at
# least this many times the lower bound. On the bench's 135 instances (9
# WfCommons workflows x 3 capacities x 200 to 20,000 tasks) HEFT's plans end
# 1.00-1.29x the bound where its greedy choices work, and there PEFT lost
# or tied on all but one (-0.06%); every other PEFT win was on a plan of
# HEFT's at 1.35x the bound or more (Epigenomics: up to -78%). Where HEFT is
# this close, a second full list schedule was half of placement for nothing
# (docs/benchmarks.md, "One list schedule where it is enough").
SECOND_OPINION = 1.3


def heuristic(problem: Problem, objective: Objective, search: bool = True, explain: bool = False,
              bound: float | None = None) -> Schedule:
    """The best of HEFT and PEFT under `objective` (under the plain makespan
    objective, PEFT only where HEFT's plan is far from the bound:
    `SECOND_OPINION`), then local search. Under the cost objective, never a
    plan dearer than the makespan objective's:
    greedy choices of cheap, slow pools can lengthen the plan, and with it
    what the services cost, by more than they save. With `explain`, the
    list schedules record the reasons for the plan as they go (explained
    under `objective`). `bound`: the problem's lower bound, when the caller
    has it already."""
    kind = objective.kind if explain else None
    if objective.kind != "cost":
        return _heuristic(problem, objective, search, kind, bound)
    # Services placed differently may leave a later unit no room in one of
    # the two plans only: either plan alone will do.
    try:
        found = _heuristic(problem, objective, search, kind, bound)
    except NoCapacity:
        found = None
    if found is not None and schedule_score(objective, found)[:2] <= (0.0, 0.0):
        return found  # nothing is cheaper than free
    try:
        fastest = _heuristic(problem, objective.model_copy(update={"kind": "makespan"}), search, kind, bound)
    except NoCapacity:
        if found is None:
            raise
        return found
    # Compared exactly, not within rounding noise: the guarantee is strict.
    if found is None or schedule_score(objective, fastest) < schedule_score(objective, found):
        return fastest
    return found


def _heuristic(problem: Problem, objective: Objective, search: bool, explain_kind: str | None,
               bound: float | None = None) -> Schedule:
    policy = policy_for(problem, objective)
    rank = upward_rank(problem)

    def slots():
        return [[] for _ in range(problem.n)] if explain_kind else None

    budget = SEARCH_WORK // max(problem.n, 1)
    searching = search and problem.n >= 2 and budget >= MIN_SEARCH
    # The local search resumes its trials from the winner's own states
    # (the moves it tries first finish last, so mostly late in the order).
    keep = checkpoints(problem.n) if searching else ()
    heft = run(problem, rank, policy, "heft", explain=slots(), explain_kind=explain_kind, keep=keep)
    candidates = [(heft, rank, None)]
    plain = objective.kind == "makespan" and objective.deadline is None and objective.budget is None
    if not plain or heft.makespan >= SECOND_OPINION * (lower_bound(problem) if bound is None else bound):
        # PEFT wins only with a shorter plan (or as short and cheaper) under
        # the plain makespan objective: it is abandoned once it is sure to
        # end after HEFT's plan, which gives the same choice without
        # finishing it.
        lookahead = optimistic_cost_table(problem)
        oct_rank = row_means(lookahead)
        peft = run(problem, oct_rank, policy, "peft", lookahead=lookahead, explain=slots(),
                   explain_kind=explain_kind, give_up=beyond(heft.makespan) if plain else inf, keep=keep)
        if peft is not None:
            candidates.append((peft, oct_rank, lookahead))
    if objective.deadline is not None or objective.budget is not None:
        # When the objective's own choices break a constraint, plans made
        # for time alone or for money alone may still keep it.
        for kind in ("makespan", "cost"):
            alone = policy_for(problem, Objective(kind=kind))
            candidates.append((run(problem, rank, alone, f"heft ({kind})", explain=slots(), explain_kind=explain_kind),
                               rank, None))
    best, priority, ahead = min(candidates, key=lambda c: schedule_score(objective, c[0]))
    if not searching:
        return best
    return improve(problem, best, priority, policy, budget, ahead)


def checkpoints(n: int) -> tuple[int, ...]:
    """Counts of placed units at which a list schedule keeps its state for
    the local search: half, three quarters, seven eighths and fifteen
    sixteenths of the units (a copy costs about what placing 20 units
    does, at 3,000)."""
    return tuple(sorted({n - n // 2 ** j for j in range(1, 5) if n // 2 ** j}))


@contextmanager
def _without_cycle_collection():
    """The schedulers allocate many small objects in no cycles; the cyclic
    garbage collector would keep walking the large IR for nothing (about half
    the run time on 5,000 units)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def place(experiment: Experiment, objective: Objective | None = None,
          waits: dict[tuple[str, str], float] | None = None) -> Plan:
    """Choose a site and pool for every stage instance and service. `waits`
    (`mlc plan --live`): seconds before the queue of (site, pool) would
    start a job; nothing starts there earlier."""
    with _without_cycle_collection():
        return _place(experiment, objective or experiment.objective, waits or {})


def _place(experiment: Experiment, objective: Objective, waits: dict[tuple[str, str], float]) -> Plan:
    problem = build(experiment)
    if waits:
        problem.pool_wait = [waits.get((pool.site, pool.name), 0.0) for pool in problem.pools]
    if problem.unreachable:
        raise errors.PlacementError([
            reachability.unreachable(experiment, problem.units[c], problem.units[s],
                                     [problem.sites[i] for i in cs], [problem.sites[i] for i in ss])
            for c, s, cs, ss in problem.unreachable])
    stuck = [u for u in range(problem.n) if not problem.options[u]]
    if stuck:
        raise errors.PlacementError(
            [errors.unplaceable(experiment, problem.units[u], never_done(problem, u)) for u in stuck]
        )

    bound = lower_bound(problem)
    try:
        schedule = heuristic(problem, objective, explain=True, bound=bound)
    except NoCapacity as blocked:
        unit = problem.units[blocked.unit]
        raise errors.PlacementError([errors.no_capacity(experiment, unit, blocked.holders, blocked.stalled)]) from None
    notes: list[str] = []
    if objective.kind == "makespan" and schedule.makespan <= bound * (1 + 1e-9):
        notes.append("the makespan equals the lower bound: no plan is faster")

    if violation(objective, schedule.makespan, schedule.cost) > 0:
        raise errors.PlacementError(_constraint_errors(problem, objective, schedule, bound))
    return to_plan(problem, objective, schedule, bound, notes)


def _constraint_errors(problem: Problem, objective: Objective, schedule: Schedule, bound: float) -> list[Diagnostic]:
    found = []
    if objective.deadline is not None and schedule.makespan > objective.deadline:
        fastest = heuristic(problem, Objective(kind="makespan"), search=False)
        found.append(errors.deadline_missed(objective, min(fastest.makespan, schedule.makespan), bound))
    if objective.budget is not None and schedule.cost > objective.budget:
        cheapest = heuristic(problem, Objective(kind="cost"), search=False)
        floor = sum(min_running_cost(problem))
        found.append(errors.budget_exceeded(objective, min(cheapest.cost, schedule.cost), floor))
    return found
