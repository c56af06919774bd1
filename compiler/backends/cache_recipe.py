"""The compile-time half of a step's cache key (runner/step_cache.py adds
its inputs' keys at run time): everything that can change what the step
writes, and nothing else.

In the recipe: the command as the site's shell runs it (its text, and the
values and paths it is given), the image, the environment (a secret by its
name: its value is never read), the values of params and sweep variables it
uses, and the paths of its outputs (results are kept by path). Left out:
names (of the experiment, stage, site), resources, retries, placement,
comments and layout of the .mlx, the output folder. So two experiments that
run the same command on the same inputs in one work root share the result.
The recipe is a JSON document with sorted keys: the same sources give the
same bytes."""

from __future__ import annotations

import hashlib
import json

from ..ir import Experiment, Plan, PortRef, StageInstance, Value
from ..shell_context import Rendered
from . import commands


def params_of(instance: StageInstance) -> dict[str, str]:
    """The values the command uses and the sweep point, as text."""
    params = {name: str(value) for name, value in instance.sweep.items()}
    params.update({part.name: part.value for part in instance.command if isinstance(part, Value)})
    return dict(sorted(params.items()))


def _env(instance: StageInstance) -> dict[str, str]:
    return {name: value.value if value.kind == "literal" else f"secret {value.secret}"
            for name, value in sorted(instance.env.items())}


# The input name of the experiment's `code` paths (no port can be called so;
# runner/step_cache.py spells it the same and reports it as "code changed").
CODE = "<code>"


def _inputs(experiment: Experiment, plan: Plan, instance: StageInstance) -> list[dict]:
    """One entry per path an input stands for, as the site sees it; and the
    `code` paths (shipped to every site that runs a stage: what the command
    runs is part of what it writes)."""
    specs = [{"name": CODE, "position": i, "kind": "project", "path": code.path}
             for i, code in enumerate(experiment.code)]
    for port in instance.inputs:
        paths = commands.port_paths(experiment, plan, instance.id, PortRef(direction="in", name=port.name))
        if port.dataset is not None:
            dataset = next(d for d in experiment.datasets if d.name == port.dataset)
            specs += [{"name": port.name, "position": i, "kind": "dataset", "path": path, "uri": dataset.uri}
                      for i, path in enumerate(paths)]
        else:
            kind = "project" if port.source is not None else "output"
            specs += [{"name": port.name, "position": i, "kind": kind, "path": path}
                      for i, path in enumerate(paths)]
    return specs


def recipe(experiment: Experiment, plan: Plan, unit: str, rendered: Rendered | None = None) -> dict:
    """`rendered`: the unit's command, when the caller has rendered it already."""
    instance = experiment.instance(unit)
    if rendered is None:
        rendered = commands.render_command(experiment, plan, unit)
    parts = {
        "command": rendered.text,
        "exports": [list(pair) for pair in rendered.exports],
        "image": instance.image or "",
        "env": _env(instance),
        "params": params_of(instance),
        "outputs": [[o.kind, o.path] for o in instance.outputs],
    }
    # The environment the command runs in (modules, conda, venv) and how it
    # starts: in the key only when stated, so keys of plain stages stay put.
    if instance.software != type(instance.software)():
        parts["software"] = instance.software.model_dump(mode="json")
    if instance.launch is not None:
        parts["launch"] = instance.launch.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return {
        "recipe": digest, "step": unit, "experiment": experiment.name, "parts": parts,
        "inputs": _inputs(experiment, plan, instance),
        "outputs": [{"name": o.name, "kind": o.kind, "path": o.path} for o in instance.outputs],
    }


def recipe_text(experiment: Experiment, plan: Plan, unit: str, rendered: Rendered | None = None) -> str:
    """The recipe as the step script passes it to step_cache.py."""
    return json.dumps(recipe(experiment, plan, unit, rendered), sort_keys=True, separators=(",", ":"))
