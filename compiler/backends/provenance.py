"""Source paths as the generated files show them: relative to the
experiment's root, so the output is the same however mlc is called (an
absolute path, another working directory, another checkout location).

The root is the nearest folder, from the main .mlx file's folder upwards,
that holds a `.git` entry (the project's repository; a file for a git
worktree), else the main file's own folder. Diagnostics keep the paths as
the user typed them; only what is generated is rewritten."""

from __future__ import annotations

import os
import posixpath

from pydantic import BaseModel

from ..ir import Experiment, Plan, Span


def source_root(main: str) -> str:
    folder = os.path.dirname(os.path.abspath(main))
    here = folder
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return folder
        here = parent


def relative_sources(experiment: Experiment, plan: Plan) -> tuple[Experiment, Plan]:
    """The experiment and plan with every source path relative to the root."""
    root = source_root(experiment.source)
    # Lexical, not resolved: a symlinked checkout shows the same paths.
    labels = {path: posixpath.join(*os.path.relpath(os.path.abspath(path), root).split(os.sep))
              for path in experiment.sources}
    if all(label == path for path, label in labels.items()):
        return experiment, plan
    memo: dict[int, object] = {}
    experiment = _relabel(experiment, labels, memo)
    experiment = experiment.model_copy(update={
        "source": labels.get(experiment.source, experiment.source),
        "sources": [labels.get(s, s) for s in experiment.sources],
    })
    return experiment, _relabel(plan, labels, memo)


def _relabel(value, labels: dict[str, str], memo: dict[int, object]):
    """`value` with every Span's file relabelled; unchanged parts are shared."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    key = id(value)
    if key in memo:
        return memo[key]
    if isinstance(value, Span):
        new = value.model_copy(update={"file": labels[value.file]}) if value.file in labels else value
    elif isinstance(value, BaseModel):
        changes = {}
        for name in type(value).model_fields:
            old = getattr(value, name)
            relabelled = _relabel(old, labels, memo)
            if relabelled is not old:
                changes[name] = relabelled
        new = value.model_copy(update=changes) if changes else value
    elif isinstance(value, (list, tuple)):
        items = [_relabel(item, labels, memo) for item in value]
        new = type(value)(items) if any(a is not b for a, b in zip(items, value)) else value
    elif isinstance(value, dict):
        items = {k: _relabel(v, labels, memo) for k, v in value.items()}
        new = items if any(items[k] is not value[k] for k in value) else value
    else:
        new = value
    memo[key] = new
    return new
