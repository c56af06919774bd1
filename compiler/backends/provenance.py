"""Source paths as the generated files show them: relative to the
experiment's root, so the output is the same however mlc is called (an
absolute path, another working directory, another checkout location).

The root is the nearest folder, from the main .mlx file's folder upwards,
that holds a `.git` entry (the project's repository; a file for a git
worktree), else the main file's own folder. Diagnostics keep the paths as
the user typed them; only what is generated shows them relative.

`emit` sets the labels for the duration of one emission (a context
variable, not a rewritten IR: relabelling every span of a large experiment
costs as much as checking it)."""

from __future__ import annotations

import contextlib
import contextvars
import os
import posixpath
from collections.abc import Iterator

from ..ir import Experiment, Span

_labels: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("mlc_source_labels", default={})


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


def labels(experiment: Experiment) -> dict[str, str]:
    """Each source file as given -> its path relative to the root."""
    root = source_root(experiment.source)
    # Lexical, not resolved: a symlinked checkout shows the same paths.
    return {path: posixpath.join(*os.path.relpath(os.path.abspath(path), root).split(os.sep))
            for path in [experiment.source, *experiment.sources]}


@contextlib.contextmanager
def relative_to_root(experiment: Experiment) -> Iterator[None]:
    token = _labels.set(labels(experiment))
    try:
        yield
    finally:
        _labels.reset(token)


def source(path: str) -> str:
    """A source file as generated files name it (not a source: unchanged)."""
    return _labels.get().get(path, path)


def where(span: Span) -> str:
    """`file:line` of a span, as generated files show it."""
    return f"{source(span.file)}:{span.line}"
