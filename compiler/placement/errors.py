"""Placement errors (E08xx, listed in docs/errors.md): what cannot be
placed at all, and constraints no plan found keeps."""

from __future__ import annotations

from ..diagnostics import Diagnostic, Note, help_, note
from ..fit import all_pools, candidate_pools, human_duration, nearest_pool, shortfalls
from ..ir import DataRef, Experiment, Objective, Pool, Service, Site
from ..sites import registry

NO_POOL = "E0801"  # no pool can ever run a unit
PIN_CONFLICT = "E0802"  # the pins and exclusions rule out every pool that could run it
DEADLINE = "E0803"  # no plan found meets the deadline
BUDGET = "E0804"  # no plan found stays within the budget
NO_CAPACITY = "E0805"  # a unit can never start: services hold, for ever, every pool it could use
NO_ROUTE = "E0806"  # data must move into or out of a site nothing reaches (a cluster without `staging`)


class PlacementError(Exception):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("; ".join(f"[{d.code}] {d.message}" for d in diagnostics))


def _what(unit) -> str:
    return f"service `{unit.name}`" if isinstance(unit, Service) else f"stage instance `{unit.id}`"


def unplaceable(experiment: Experiment, unit, never_done: list[Pool] | None = None) -> Diagnostic:
    """E0801 or E0802 for a unit no pool can run, naming the nearest pool.
    `never_done`: pools that could run it but would never finish it (a speed
    that is not positive, or an estimate that is not a finite duration: an IR
    the front end did not check)."""
    if never_done:
        notes = [
            note(f"{pool.id} has speed {pool.speed:g}: the default estimate never ends there", pool.span)
            if not pool.speed > 0 else note(f"{pool.id}: the estimate there is not a finite duration", pool.span)
            for pool in never_done
        ]
        notes.append(help_("give the pool a positive speed, or the stage a finite estimate for it"))
        return Diagnostic(NO_POOL, f"no pool can ever finish {_what(unit)}", unit.span, "error", tuple(notes))
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


def no_capacity(experiment: Experiment, unit, holders: list[str], stalled: list[str]) -> Diagnostic:
    """E0805, saying only what is true: services hold its pools, or what it
    waits for never finishes, or no node of its pools can take it."""
    pools = ", ".join(pool.id for pool in candidate_pools(experiment, unit))
    where = note(f"it can only run on {pools}")
    if holders:
        message = f"{_what(unit)} can never start: services occupy its pools for good"
        hint = help_("pin the services elsewhere, lower their resources or replicas, or declare more nodes")
    elif stalled:
        names = ", ".join(f"`{name}`" for name in stalled)
        message = f"{_what(unit)} can never start: it waits for {names}, which never finishes"
        hint = help_("give what it waits for a finite estimate")
    else:
        message = f"{_what(unit)} can never start: no node of its pools can take it"
        hint = help_("declare more nodes, or lower its resources")
    return Diagnostic(NO_CAPACITY, message, unit.span, "error", (where, hint))


def no_route(experiment: Experiment, what: DataRef, source: Site, target: Site) -> Diagnostic:
    """E0806: the plan moves `what` between two sites and no way of copying
    joins them; reported at the end nothing reaches, which says what it lacks."""
    ends = [s for s in (source, target) if not registry.of(s).site_reached_by(s)] or [target]
    at = ends[0]
    other = target if at is source else source
    direction = "out of" if at is source else "into"
    notes = [note(f"the {'target' if other is target else 'source'} is site `{other.name}`", other.span),
             help_(registry.of(at).no_route_hint(at))]
    return Diagnostic(NO_ROUTE, f"{what.label} must be copied {direction} site `{at.name}`, which no transfer "
                      "can reach", at.span, "error", tuple(notes))
