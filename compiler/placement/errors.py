"""Placement errors (E08xx, listed in docs/errors.md): what cannot be
placed at all, and constraints no plan found keeps."""

from __future__ import annotations

from ..diagnostics import Diagnostic, Note, help_, note
from ..fit import all_pools, candidate_pools, human_duration, nearest_pool, shortfalls
from ..ir import Experiment, Objective, Service

NO_POOL = "E0801"  # no pool can ever run a unit
PIN_CONFLICT = "E0802"  # the pins and exclusions rule out every pool that could run it
DEADLINE = "E0803"  # no plan found meets the deadline
BUDGET = "E0804"  # no plan found stays within the budget
NO_CAPACITY = "E0805"  # services hold, for ever, every pool a unit could use


class PlacementError(Exception):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("; ".join(f"[{d.code}] {d.message}" for d in diagnostics))


def _what(unit) -> str:
    return f"service `{unit.name}`" if isinstance(unit, Service) else f"stage instance `{unit.id}`"


def unplaceable(experiment: Experiment, unit) -> Diagnostic:
    """E0801 or E0802 for a unit no pool can run, naming the nearest pool."""
    if unit.on or unit.not_on:
        unpinned = unit.model_copy(update={"on": [], "not_on": []})
        fitting = [pool.id for pool in all_pools(experiment) if not shortfalls(experiment, unpinned, pool)]
        if fitting:
            allowed = f"pinned to {', '.join(unit.on)}" if unit.on else f"excluded from {', '.join(unit.not_on)}"
            notes: list[Note] = []
            for pool in all_pools(experiment):
                if (not unit.on or pool.site in unit.on or pool.id in unit.on) and pool.id not in fitting:
                    reasons = shortfalls(experiment, unpinned, pool)
                    notes.append(note(f"{pool.id}: {'; '.join(reasons)}", pool.span))
            notes.append(help_(f"these pools could run it: {', '.join(fitting)}; change `on`/`not_on`"))
            return Diagnostic(
                PIN_CONFLICT,
                f"{_what(unit)} is {allowed}, but no pool allowed there can run it",
                unit.span,
                "error",
                tuple(notes),
            )
    nearest = nearest_pool(experiment, unit)
    notes = []
    if nearest is not None:
        pool, reasons = nearest
        notes.append(note(f"nearest is {pool.id}: {'; '.join(reasons)}", pool.span))
    notes.append(help_("lower the unit's resources or declare a pool that has them"))
    return Diagnostic(NO_POOL, f"no pool can ever run {_what(unit)}", unit.span, "error", tuple(notes))


def deadline_missed(objective: Objective, makespan: float, bound: float) -> Diagnostic:
    assert objective.deadline is not None
    notes = [note(f"the best plan found takes {human_duration(makespan)}")]
    if bound > objective.deadline:
        notes.append(note(f"no plan can take less than {human_duration(bound)} (the critical path at the fastest speeds, or the work over all nodes)"))
    notes.append(help_("raise the deadline, declare more capacity, or relax `on` pins"))
    return Diagnostic(
        DEADLINE,
        f"the deadline of {human_duration(objective.deadline)} cannot be met",
        objective.deadline_span or objective.span,
        "error",
        tuple(notes),
    )


def budget_exceeded(objective: Objective, cost: float, cheapest: float) -> Diagnostic:
    assert objective.budget is not None
    notes = [note(f"the cheapest plan found costs {cost:.2f}")]
    if cheapest > objective.budget:
        notes.append(note(f"running every unit on its cheapest pool already costs {cheapest:.2f}"))
    notes.append(help_("raise the budget, or allow cheaper pools (local or Slurm sites cost nothing per hour unless priced)"))
    return Diagnostic(
        BUDGET,
        f"the budget of {objective.budget:.2f} is too small",
        objective.budget_span or objective.span,
        "error",
        tuple(notes),
    )


def no_capacity(experiment: Experiment, unit) -> Diagnostic:
    pools = ", ".join(pool.id for pool in candidate_pools(experiment, unit))
    return Diagnostic(
        NO_CAPACITY,
        f"{_what(unit)} can never start: services occupy its pools for good",
        unit.span,
        "error",
        (
            note(f"it can only run on {pools}"),
            help_("pin the services elsewhere, lower their resources or replicas, or declare more nodes"),
        ),
    )
