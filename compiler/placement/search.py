"""Local search over a list schedule: move one unit to another pool,
schedule again in the same priority order, keep the move when the plan
improves.

The moves tried first are the units the objective hinges on: the critical
chain (for time) and the most expensive units (for money). The budget is a
count of re-schedulings, not seconds, so the same input always gives the same
plan.
"""

from __future__ import annotations

from math import inf

from ..ir import Objective
from .listsched import Policy, State, advance, schedule_of, start
from .model import Problem
from .schedule import Schedule, better, beyond, schedule_score

_TOUCH = 1e-6  # seconds: two events this close are simultaneous



def critical_chain(problem: Problem, schedule: Schedule) -> list[int]:
    """From the last unit back to time zero, following whichever predecessor
    (data) or pool neighbour (capacity) made each unit wait."""
    if not problem.n:
        return []
    routes = problem.routes
    site = [problem.pool_site[p] for p in schedule.pool]
    by_pool: dict[int, list[int]] = {}
    for u, p in enumerate(schedule.pool):
        by_pool.setdefault(p, []).append(u)
    u = max(range(problem.n), key=lambda v: (schedule.finish[v], problem.names[v]))
    chain, seen = [u], {u}
    while schedule.start[u] > _TOUCH:
        begin, nxt = schedule.start[u], None
        for q, size, carries in problem.preds[u]:
            arrival = schedule.finish[q] + (routes.seconds(site[q], site[u], size) if carries else 0.0)
            if arrival >= begin - _TOUCH and q not in seen:
                nxt = q
                break
        if nxt is None:
            blockers = [
                v for v in by_pool[schedule.pool[u]]
                if v not in seen and not problem.is_service[v] and abs(schedule.finish[v] - begin) <= _TOUCH
            ]
            if not blockers:
                break
            nxt = min(blockers, key=lambda v: problem.names[v])
        chain.append(nxt)
        seen.add(nxt)
        u = nxt
    return chain


def _moves(problem: Problem, objective: Objective, schedule: Schedule) -> list[int]:
    order = critical_chain(problem, schedule)
    if objective.kind != "makespan" or objective.budget is not None:
        expensive = sorted(range(problem.n), key=lambda u: (-schedule.run_cost[u], problem.names[u]))
        order += expensive
    seen: set[int] = set()
    return [u for u in order if not (u in seen or seen.add(u)) and len(problem.options[u]) > 1]


def _variants(schedule: Schedule, u: int, p: int) -> list[dict[int, int]]:
    """The two ways to move unit u to pool p, as fixed pools: keep every
    other unit where it is and only re-time (cheap, precise), or keep the
    units placed before u and let the rest re-decide around it (the readers
    of its outputs often want to follow it)."""
    retimed = dict(enumerate(schedule.pool))
    retimed[u] = p
    prefix = {}
    for v in schedule.order:
        if v == u:
            break
        prefix[v] = schedule.pool[v]
    prefix[u] = p
    return [retimed, prefix]


def _resume(problem: Problem, schedule: Schedule, priority: list[float], policy: Policy, until: int) -> State:
    """The state of a run with every unit fixed where `schedule` has it,
    after placing `until` units: from the latest state the schedule's run
    kept before then (else from the start), each further unit taking its
    start and node from the schedule. Never one of the kept states itself:
    they are shared."""
    kept = [s for s in schedule.saved if len(s.order) <= until]
    state = kept[-1].copy() if kept else start(problem, priority, policy)
    advance(problem, state, policy, fixed=dict(enumerate(schedule.pool)), until=until, known=schedule)
    return state


def improve(
    problem: Problem,
    schedule: Schedule,
    priority: list[float],
    policy: Policy,
    max_evaluations: int,
    lookahead: list[list[float]] | None = None,
) -> Schedule:
    """First-improvement descent until no move helps or the budget of
    re-schedulings is spent. The trials of one unit all keep the units
    placed before it where they are: each resumes from one state taken
    there (listsched.State) and only re-places the rest."""
    objective = policy.objective
    best, best_score = schedule, schedule_score(objective, schedule)
    evaluations = 0
    name = f"{schedule.algorithm} + local search"
    # Under the plain makespan objective a trial is abandoned once it is sure
    # to end later than the best plan (it could not be kept): same choices.
    plain = objective.kind == "makespan" and objective.deadline is None and objective.budget is None
    while evaluations < max_evaluations:
        improved = False
        position = {u: i for i, u in enumerate(best.order)}
        for u in _moves(problem, objective, best):
            before_u = None
            for p in problem.options[u]:
                if p == best.pool[u]:
                    continue
                for fixed in _variants(best, u, p):
                    if evaluations >= max_evaluations:
                        return best
                    if before_u is None:
                        before_u = _resume(problem, best, priority, policy, position[u])
                    state = before_u.copy()
                    evaluations += 1
                    if not advance(problem, state, policy, lookahead=lookahead, fixed=fixed,
                                   give_up=beyond(best.makespan) if plain else inf):
                        continue
                    trial = schedule_of(problem, state, name)
                    trial_score = schedule_score(objective, trial)
                    if better(trial_score, best_score):
                        # The trial places the units before u as the best
                        # plan did: its states there are the trial's too.
                        trial.saved = [s for s in best.saved if len(s.order) <= position[u]] + [before_u]
                        best, best_score, improved = trial, trial_score, True
                        break
                if improved:
                    break
            if improved:
                break
        if not improved:
            break
    return best
