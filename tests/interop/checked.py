"""Generated .mlx text put through the real front end: it must check clean,
and its IR gives the DAG to compare with the source's."""

from __future__ import annotations

import re
from pathlib import Path

from compiler.diagnostics import render_text
from compiler.frontend import load
from compiler.ir import Experiment


def load_clean(text: str, folder: Path, name: str = "imported.mlx",
               extra: dict[str, str] | None = None) -> Experiment:
    """Write `text` (and `extra` files, such as a site catalog it imports)
    into `folder`, check it, and fail with the rendered diagnostics unless it
    has none at all."""
    for file_name, content in (extra or {}).items():
        (folder / file_name).write_text(content)
    path = folder / name
    path.write_text(text)
    provide_project_inputs(path)
    experiment, diags, sources = load(str(path), {})
    problems = diags.sorted()
    assert problems == [], render_text(problems, sources)
    assert experiment is not None
    return experiment


_MISSING = re.compile(r"`(.*)` does not exist in the project")


def provide_project_inputs(path: Path) -> None:
    """Create (empty) the project files and folders that the experiment in
    `path` reads with `file()`/`dir()` and that are missing (E0580): the
    importer translates an experiment, its project provides them. Read from
    the checker's own reports, so interpolated paths are found as it
    resolves them."""
    _, diags, sources = load(str(path), {})
    for d in diags.items:
        if d.code != "E0580":
            continue
        line = sources.line(d.span.file, d.span.line) or ""
        is_dir = line[d.span.column - 1:].startswith("dir(")
        target = path.parent / _MISSING.match(d.message).group(1)
        if is_dir:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()


def edges(experiment: Experiment) -> set[tuple[str, str]]:
    """(producer, consumer) for every data and `after` edge between stages."""
    return {(e.source, e.target) for e in experiment.edges if e.source_kind == "instance"}


def stage_names(experiment: Experiment) -> list[str]:
    return [group.name for group in experiment.stages]
