"""Feasibility against the declared sites: a stage that no partition or pool
can ever run is an error naming the nearest candidate and the shortfall."""

from __future__ import annotations

from collections.abc import Collection

from .. import fit, ir
from ..diagnostics import Diagnostics, help_, note
from ..sites import registry
from ..sites.base import Feature, SiteKind


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
        without = _kinds_without_services(experiment, unit) if isinstance(unit, ir.Service) else None
        single = _kinds_without_multi_node(experiment, unit) if isinstance(unit, ir.StageInstance) else None
        if single:
            code = "E0740"
            message = (f"stage `{group}` needs {unit.resources.nodes} nodes at once; "
                       f"a {' or '.join(k.title for k in single)} site runs a stage on one node")
            hosts = [k.title for k in registry.KINDS.values() if k.has(Feature.MULTI_NODE)]
            notes.append(help_(f"multi-node stages run on {' or '.join(hosts)} sites: pin it there "
                               "with `on = ...`, or set `nodes = 1`"))
        elif without:
            code = "E0702"
            message = f"service `{group}` cannot run on a {' or '.join(k.title for k in without)} site"
            hosts = [k.title for k in registry.KINDS.values() if k.has(Feature.SERVICES)]
            listed = ", ".join(hosts[:-1]) + " or " + hosts[-1] if len(hosts) > 1 else hosts[0]
            notes.append(help_(f"services run on {listed} sites; pin it with `on = ...`"))
        else:
            code = "E0701"
            message = f"no partition or pool can ever run {noun} `{group}`"
            notes.append(help_("lower what it asks for, or declare a pool that offers it"))
        diags.error(code, message, unit.span, *notes)


def _kinds_without_services(experiment: ir.Experiment, service: ir.Service) -> list[SiteKind]:
    """The kinds of the sites the service may use, when none of them hosts
    services (empty otherwise)."""
    pinned = {p.split(".")[0] for p in service.on}
    kinds = [registry.of(s) for s in experiment.sites if not service.on or s.name in pinned]
    if any(k.has(Feature.SERVICES) for k in kinds):
        return []
    return list(dict.fromkeys(kinds))


def _kinds_without_multi_node(experiment: ir.Experiment, stage: ir.StageInstance) -> list[SiteKind]:
    """The kinds of the sites a multi-node stage may use, when none of them
    runs a stage on several nodes (empty otherwise, and for a stage with
    shapes: its shapes may differ in that)."""
    if stage.resources.nodes <= 1 or stage.shapes:
        return []
    pinned = {p.split(".")[0] for p in stage.on}
    kinds = [registry.of(s) for s in experiment.sites if not stage.on or s.name in pinned]
    if any(k.has(Feature.MULTI_NODE) for k in kinds):
        return []
    return list(dict.fromkeys(kinds))
