"""`mlc plan --exact`: the plan measured against the exact MILP.

The check only reports. The compiled plan is always the heuristic's, so that
it depends on the sources alone: not on whether the optional scipy is
installed, nor on which of several equally good optima a HiGHS version
returns (docs/placement.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..fit import human_duration
from ..ir import Experiment, Objective, Plan
from . import exact
from .model import build
from .schedule import score

# The MILP has about n^2 ordering variables per pool: past this many units
# it rarely proves anything within its limits.
MAX_UNITS = 20
# The node limit bounds the work; the time limit only guards against a
# pathological instance on a slow machine.
NODE_LIMIT = exact.DEFAULT_NODE_LIMIT
TIME_LIMIT = exact.DEFAULT_TIME_LIMIT
_SAME = 1e-9  # relative: closer than this is the same value


class ExactUnavailable(Exception):
    """The check cannot be made here (a usage problem, exit 2)."""


@dataclass(frozen=True)
class ExactCheck:
    measure: str  # "makespan", "cost" or "weighted score": what the objective minimises
    plan_value: float
    optimal: bool  # the MILP proved its best plan optimal
    milp_value: float | None  # the MILP's best plan, None when it found none
    bound: float  # no plan does better than this (the MILP's dual bound)
    infeasible: bool

    @property
    def gap(self) -> float | None:
        """How far the plan is above the optimum (proven), or above the
        bound (at most this far), relatively; None when there is no bound."""
        reference = self.milp_value if self.optimal else self.bound
        if reference is None or reference <= 0:
            return 0.0 if self.plan_value <= _SAME else None
        return max(0.0, self.plan_value / reference - 1)

    def as_dict(self) -> dict:
        return {
            "measure": self.measure,
            "plan": self.plan_value,
            "optimal": self.optimal,
            "milp": self.milp_value,
            "bound": self.bound,
            "infeasible": self.infeasible,
            "gap": self.gap,
        }


def _measure(objective: Objective) -> str:
    return {"makespan": "makespan", "cost": "cost"}.get(objective.kind, "weighted score")


def _value(objective: Objective, makespan: float, cost: float) -> float:
    return score(objective, makespan, cost)[1]


def check_exact(experiment: Experiment, plan: Plan) -> ExactCheck:
    """Solve the MILP of `experiment` under the plan's objective and compare."""
    problem = build(experiment)
    if any(problem.is_service):
        raise ExactUnavailable("--exact: the exact MILP does not model services; this experiment has some")
    if any(g is not None for g in problem.gang):
        raise ExactUnavailable("--exact: the exact MILP does not model multi-node or shaped stages; this experiment has some")
    if problem.n > MAX_UNITS:
        raise ExactUnavailable(
            f"--exact: the exact MILP is for up to {MAX_UNITS} stage instances; this experiment has {problem.n}"
        )
    if not exact.available():
        raise ExactUnavailable("--exact needs scipy (it carries the HiGHS solver): pip install 'mlc[exact]'")
    objective = plan.objective
    solved = exact.solve(problem, objective, plan.makespan, TIME_LIMIT, NODE_LIMIT)
    milp_value = None
    if solved.schedule is not None:
        milp_value = _value(objective, solved.schedule.makespan, solved.schedule.cost)
    return ExactCheck(
        measure=_measure(objective),
        plan_value=_value(objective, plan.makespan, plan.cost),
        optimal=solved.optimal,
        milp_value=milp_value,
        bound=solved.bound,
        infeasible=solved.infeasible,
    )


def _show(measure: str, value: float) -> str:
    if measure == "makespan":
        return human_duration(value)
    return f"{value:.2f}" if measure == "cost" else f"{value:.4g}"


def render_check(check: ExactCheck) -> str:
    """One line for the end of `mlc plan`'s table."""
    show = lambda value: _show(check.measure, value)  # noqa: E731
    mine = f"this plan {show(check.plan_value)}"
    gap = check.gap
    if check.infeasible:
        return f"exact MILP: no plan keeps the deadline and budget; {mine}\n"
    if check.milp_value is None:
        return f"exact MILP: found no plan within its limits; no plan has a {check.measure} below {show(check.bound)}; {mine}\n"
    if check.optimal:
        above = f"gap {gap:.2%}" if gap is not None else "no relative gap to an optimum of 0"
        return f"exact MILP: optimal {check.measure} {show(check.milp_value)}; {mine} ({above})\n"
    within = f" (at most {gap:.2%} above the optimum)" if gap is not None else ""
    return (
        f"exact MILP: stopped at its limits; best {check.measure} found {show(check.milp_value)}, "
        f"no plan below {show(check.bound)}; {mine}{within}\n"
    )
