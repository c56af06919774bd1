"""A WfFormat DAG as a Snakefile for `snakemake -n`: one rule per task with
the task's files as input and output, a first rule `all` asking for the
files nobody reads, and the files nobody writes created empty (a dry run
needs them to exist). An ordering-only parent becomes an input on one of
its outputs, the only way to order rules in Snakemake."""

from __future__ import annotations

from pathlib import Path

from .dag import Dag
from .idents import Identifiers


def _files(paths: list[str]) -> str:
    return ", ".join(repr(p) for p in paths)  # a Python literal: the Snakefile is Python


def render(dag: Dag) -> str:
    rules = Identifiers("r_")
    outputs_of = {t.id: t.outputs for t in dag.tasks}
    lines = ["rule all:", f"    input: {_files(['data/' + f for f in dag.sinks()])}", ""]
    for task in dag.tasks:
        inputs = ["data/" + f if f in dag.producer else "inputs/" + f for f in task.inputs]
        inputs += ["data/" + outputs_of[p][0] for p in dag.order_only_parents(task) if outputs_of[p]]
        lines.append(f"rule {rules(task.id)}:")
        if inputs:
            lines.append(f"    input: {_files(inputs)}")
        lines.append(f"    output: {_files(['data/' + f for f in task.outputs])}")
        lines.append('    shell: "touch {output}"')
        lines.append("")
    return "\n".join(lines)


def write(dag: Dag, folder: Path) -> Path:
    """The Snakefile and its source files in `folder`; returns the Snakefile."""
    folder.mkdir(parents=True, exist_ok=True)
    for file_id in dag.sources:
        source = folder / "inputs" / file_id
        source.parent.mkdir(parents=True, exist_ok=True)
        source.touch()
    path = folder / "Snakefile"
    path.write_text(render(dag), encoding="utf-8")
    return path
