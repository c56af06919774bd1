"""Multi-node stages and resource shapes: `nodes`, `launch`,
`tasks_per_node` and `shapes = [shape(...), ...]` of a stage, lowered to
ir.Launch and ir.Shape (docs/language.md, "Multi-node stages")."""

from __future__ import annotations

from .. import ir
from ..diagnostics import help_
from . import ast as A
from . import schema as S
from .context import Context, check_fields
from .evaluate import Scope

# The fields a shape may leave out, taken from the stage.
_RESOURCE_FIELDS = ("nodes", "cpus", "memory", "gpus", "time")


def launch(ctx: Context, plain: dict, field_of: dict) -> ir.Launch | None:
    """`launch` and `tasks_per_node`. Tasks per node only mean something to
    a launcher that starts tasks (srun, mpirun); torchrun starts one
    process per GPU."""
    kind = plain.get("launch")
    tasks = plain.get("tasks_per_node")
    if tasks is not None and kind != "srun" and kind != "mpirun":
        where = field_of["tasks_per_node"].name_pos.span()
        if kind is None:
            ctx.diags.error("E0540", "`tasks_per_node` without `launch`", where,
                            help_("without `launch` the command runs once; add `launch = srun` "
                                  "or `launch = mpirun` to start that many tasks on every node"))
        else:
            ctx.diags.error("E0540", f"`tasks_per_node` with `launch = {kind}`", where,
                            help_("torchrun starts one process per GPU of a node (one without GPUs); "
                                  "drop `tasks_per_node`, or launch with srun or mpirun"))
        tasks = None
    if kind is None:
        return None
    return ir.Launch(kind=kind, tasks_per_node=tasks or 1)


def shapes(ctx: Context, entry, base: ir.Resources, base_estimate, lower_estimate, lower_placement) -> list[ir.Shape]:
    """`shapes = [shape(on = ..., nodes = ..., gpus = ..., estimate = ...), ...]`.
    Each shape starts from the stage's own resources; a bad shape is
    reported and left out."""
    if entry is None:
        return []
    raw, scope, f = entry
    items = raw.items if isinstance(raw, A.ListV) else [raw]
    if isinstance(raw, A.ListV) and not items:
        ctx.diags.error("E0541", "`shapes` is empty", raw.pos.span(),
                        help_("list the alternatives: `shapes = [shape(on = hpc, nodes = 2), ...]`, "
                              "or leave `shapes` out"))
    out = []
    for item in items:
        shape = _shape(ctx, item, scope, base, base_estimate, lower_estimate, lower_placement)
        if shape is not None:
            out.append(shape)
    return out


def _shape(ctx: Context, item, scope: Scope, base: ir.Resources, base_estimate, lower_estimate,
           lower_placement) -> ir.Shape | None:
    if not isinstance(item, A.Call) or item.name != "shape" or item.args:
        ctx.diags.error("E0541", "a shape is written `shape(field = value, ...)`", item.pos.span(),
                        help_("for example `shape(on = cloud.t4, nodes = 4, gpus = 1 x t4, estimate = 30h)`; "
                              "fields: " + ", ".join(f"`{n}`" for n in S.SHAPE)))
        return None
    mark = ctx.mark()
    fields = [A.Field(kw.name, kw.name_pos, kw.value) for kw in item.kwargs]
    values = check_fields(ctx, fields, S.SHAPE, scope, what="a shape", at=item.name_pos, required=False)
    stated = {f.name: f for f in fields}
    resources = base.model_copy(update={k: values[k] for k in _RESOURCE_FIELDS if k in values})
    if "estimate" in values:
        estimate = lower_estimate((values["estimate"], scope, stated["estimate"]), resources)
    elif "time" in values and not base_estimate.stated:
        estimate = lower_estimate(None, resources)  # the default follows the shape's time
    else:
        estimate = base_estimate
    on = lower_placement(values["on"], "on") if "on" in values else []
    if ctx.failed_since(mark):
        return None
    return ir.Shape(resources=resources, estimate=estimate, on=on, span=item.pos.span())
