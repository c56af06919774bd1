"""Resource shapes: a stage's alternative ways to run (docs/language.md,
"Resource shapes"). Pure IR in, IR out, shared by the checker, placement
and the back ends.

A shaped instance runs on a pool in the first of its shapes (the user's
order of preference) that fits the pool; placement records which one in
`Assignment.shape`, and the back ends see the instance `resolve`d to it, so
a generated job asks for exactly that shape."""

from __future__ import annotations

from .ir import Experiment, Plan, Pool, Resources, StageInstance


def resolve(instance: StageInstance, shape: int | None) -> StageInstance:
    """The instance as it runs in one of its shapes (itself when None)."""
    if shape is None or not instance.shapes:
        return instance
    chosen = instance.shapes[shape]
    return instance.model_copy(update={
        "resources": chosen.resources, "estimate": chosen.estimate,
        "on": chosen.on or instance.on, "shapes": []})


def alternatives(instance: StageInstance) -> list[tuple[int | None, StageInstance]]:
    """(shape index, the instance in that shape), in order of preference."""
    if not instance.shapes:
        return [(None, instance)]
    return [(i, resolve(instance, i)) for i in range(len(instance.shapes))]


def describe(resources: Resources) -> str:
    """`2 nodes x 4 x a100`, `1 node, 8 cpus`: a shape in a message."""
    nodes = f"{resources.nodes} node{'s' if resources.nodes != 1 else ''}"
    gpus = resources.gpus
    if gpus and gpus.count:
        return f"{nodes} x {gpus.count} x {gpus.type}" if gpus.type else f"{nodes} x {gpus.count} GPUs"
    return f"{nodes} x {resources.cpus} cpus"


def apply_plan(experiment: Experiment, plan: Plan) -> Experiment:
    """The experiment with every shaped instance resolved to the shape the
    plan chose for it: what the back ends emit."""
    if not any(i.shapes for i in experiment.instances):
        return experiment
    chosen = {a.unit: a.shape for a in plan.assignments}
    instances = [resolve(i, chosen.get(i.id)) if i.shapes else i for i in experiment.instances]
    return experiment.model_copy(update={"instances": instances})


def first_fitting(instance: StageInstance, pool: Pool, fits) -> int | None:
    """The first shape `fits(resolved instance, pool)`; None when none does
    (or the instance has no shapes)."""
    for index, resolved in alternatives(instance):
        if index is not None and fits(resolved, pool):
            return index
    return None
