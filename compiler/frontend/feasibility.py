"""Feasibility against the declared sites: a stage that no partition or pool
can ever run is an error naming the nearest candidate and the shortfall."""

from __future__ import annotations

from collections.abc import Collection

from .. import fit, ir
from ..diagnostics import Diagnostics, help_, note


def check_feasible(experiment: ir.Experiment, diags: Diagnostics,
                   skip: Collection[str] = frozenset()) -> None:
    """`skip`: units (ids, service names) an earlier error leaves in doubt."""
    reported: set[str] = set()
    for unit in [*experiment.instances, *experiment.services]:
        if (unit.id if isinstance(unit, ir.StageInstance) else unit.name) in skip:
            continue
        if fit.candidate_pools(experiment, unit):
            continue
        group = unit.stage if isinstance(unit, ir.StageInstance) else unit.name
        if group in reported:  # one error per stage, not per sweep member
            continue
        reported.add(group)
        noun = "stage" if isinstance(unit, ir.StageInstance) else "service"
        nearest = fit.nearest_pool(experiment, unit)
        notes = []
        if nearest is not None:
            pool, reasons = nearest
            notes.append(note(f"nearest: {pool.id}: " + "; ".join(reasons), pool.span))
        if isinstance(unit, ir.Service) and all(s.kind == "slurm" for s in experiment.sites
                                                 if not unit.on or s.name in {p.split(".")[0] for p in unit.on}):
            code = "E0702"
            message = f"service `{group}` cannot run on a Slurm site"
            notes.append(help_("services run on Kubernetes or local sites; pin it with `on = ...`"))
        else:
            code = "E0701"
            message = f"no partition or pool can ever run {noun} `{group}`"
            notes.append(help_("lower what it asks for, or declare a pool that offers it"))
        diags.error(code, message, unit.span, *notes)
