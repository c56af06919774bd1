"""How long each service runs: its consumers (the units with an input bound
to it) and its lifetime. `experiment` stops it once its last consumer has
finished and is the default for a consumed service; `persistent` leaves it
running as the experiment's deployed result and is the default otherwise."""

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
    for dr in drafts:
        if dr.kind != "service":
            continue
        fields = dr.fields
        fields.consumers = sorted(consumers.get(dr.id, ()))
        if fields.lifetime is None:
            fields.lifetime = "experiment" if fields.consumers else "persistent"
        elif fields.lifetime == "experiment" and not fields.consumers:
            ctx.diags.error("E0560", f"service `{dr.id}` lives for the experiment, but nothing uses it",
                            fields.lifetime_span or dr.decl.name_pos.span(),
                            help_(f"bind it as an input of a stage (`in NAME = {dr.id}`), or write `lifetime = persistent`"))
