"""How long each service runs: its consumers (the units with an input bound
to it) and its lifetime. `experiment` stops it once its last consumer has
finished and is the default for a consumed service; `persistent` leaves it
running as the experiment's deployed result and is the default otherwise,
also for a service that a persistent service uses."""

from __future__ import annotations

from .. import ir
from ..diagnostics import help_
from .context import Context
from .stages import UnitDraft


def settle(ctx: Context, drafts: list[UnitDraft], inputs_of: dict[str, list[ir.Input]]) -> None:
    """Sets each service draft's consumers and lifetime."""
    consumers: dict[str, set[str]] = {}
    for unit, inputs in inputs_of.items():
        for port in inputs:
            if port.service is not None:
                consumers.setdefault(port.service, set()).add(unit)
    services = {dr.id: dr for dr in drafts if dr.kind == "service"}
    stated = {name: dr.fields.lifetime for name, dr in services.items()}
    for name, dr in services.items():
        dr.fields.consumers = sorted(consumers.get(name, ()))
        if stated[name] is None:
            dr.fields.lifetime = "experiment" if dr.fields.consumers else "persistent"
    # A service that a persistent service uses is needed for as long: persistent too.
    changed = True
    while changed:
        changed = False
        for name, dr in services.items():
            if stated[name] is None and dr.fields.lifetime == "experiment" and any(
                    c in services and services[c].fields.lifetime == "persistent" for c in dr.fields.consumers):
                dr.fields.lifetime, changed = "persistent", True
    for dr in services.values():
        fields = dr.fields
        if stated[dr.id] == "experiment" and not fields.consumers:
            ctx.diags.error("E0560", f"service `{dr.id}` lives for the experiment, but nothing uses it",
                            fields.lifetime_span or dr.decl.name_pos.span(),
                            help_(f"bind it as an input of a stage (`in NAME = {dr.id}`), or write `lifetime = persistent`"))
