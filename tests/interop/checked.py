"""Generated .mlx text put through the real front end: it must check clean,
and its IR gives the DAG to compare with the source's."""

from __future__ import annotations

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
    experiment, diags, sources = load(str(path), {})
    problems = diags.sorted()
    assert problems == [], render_text(problems, sources)
    assert experiment is not None
    return experiment


def edges(experiment: Experiment) -> set[tuple[str, str]]:
    """(producer, consumer) for every data and `after` edge between stages."""
    return {(e.source, e.target) for e in experiment.edges if e.source_kind == "instance"}


def stage_names(experiment: Experiment) -> list[str]:
    return [group.name for group in experiment.stages]
