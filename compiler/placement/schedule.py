"""A schedule (pool, node, start, finish per unit) and how to score it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import Objective
from .model import Problem


@dataclass
class Schedule:
    pool: list[int]
    node: list[list[int]]  # one node per replica
    start: list[float]
    finish: list[float]  # services: equal to start (they never finish)
    run_cost: list[float]  # money for running; services: until the makespan
    egress_cost: float
    makespan: float
    algorithm: str
    order: list[int]  # the units in the order they were placed
    # Per unit, what it got and its rivals' offers when it was placed
    # (listsched.Option), recorded by the run that made this schedule; None
    # when that run did not record them.
    explained: list[list] | None = None
    # States (listsched.State) of the run that made this schedule, each
    # taken before the unit at its count of placed units, ascending: the
    # units before it are placed as here, so the local search may resume
    # from a copy. Never changed once kept.
    saved: list = field(default_factory=list, compare=False, repr=False)

    @property
    def cost(self) -> float:
        return sum(self.run_cost) + self.egress_cost


def finalise_service_costs(problem: Problem, schedule: Schedule) -> None:
    """A service whose lifetime is the experiment runs (and is paid for) from
    its start until its last consumer finishes, when the workflow stops it.
    A persistent one runs to the makespan at least; what it costs afterwards
    depends on when the user stops it."""
    consumers: dict[int, list[int]] = {}
    for c, services in enumerate(problem.uses):
        for s in services:
            consumers.setdefault(s, []).append(c)
    for u, service in enumerate(problem.is_service):
        if service:
            p = schedule.pool[u]
            end = schedule.makespan
            if problem.units[u].lifetime == "experiment" and consumers.get(u):
                end = max(schedule.finish[c] for c in consumers[u])
            schedule.run_cost[u] = problem.rate[u][p] * max(0.0, end - schedule.start[u])


def violation(objective: Objective, makespan: float, cost: float) -> float:
    """How far a plan breaks its deadline and budget, relatively; 0 when it keeps both."""
    excess = 0.0
    if objective.deadline is not None and makespan > objective.deadline:
        excess += (makespan - objective.deadline) / max(objective.deadline, 1e-9)
    if objective.budget is not None and cost > objective.budget:
        excess += (cost - objective.budget) / max(objective.budget, 1e-9)
    return excess


def score(objective: Objective, makespan: float, cost: float) -> tuple[float, float, float]:
    """Smaller is better: constraint violation first, then the objective."""
    if objective.kind == "cost":
        main, second = cost, makespan
    elif objective.kind == "weighted":
        main = objective.time_weight * makespan / 3600 + objective.cost_weight * cost
        second = makespan
    else:
        main, second = makespan, cost
    return (violation(objective, makespan, cost), main, second)


def schedule_score(objective: Objective, schedule: Schedule) -> tuple[float, float, float]:
    return score(objective, schedule.makespan, schedule.cost)


def better(a: tuple[float, ...], b: tuple[float, ...], tolerance: float = 1e-9) -> bool:
    """Lexicographically smaller by more than rounding noise."""
    for x, y in zip(a, b):
        slack = tolerance * max(1.0, abs(y))
        if x < y - slack:
            return True
        if x > y + slack:
            return False
    return False


def beyond(makespan: float) -> float:
    """A makespan surely longer than `makespan`, and by more than `better`
    counts as noise: a lower bound above it rules a plan out. The margin
    also covers the bound's own rounding (its sums associate differently)."""
    return makespan + 2e-9 * max(1.0, abs(makespan))
