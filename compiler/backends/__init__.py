"""Code generation: every file of the output folder `out/<experiment>/`.

`emit(experiment, plan)` returns the files as {path relative to the folder:
text}; `compile_to` writes them (or checks them) through the writer.
docs/codegen.md describes the layout and the decisions behind it."""

from __future__ import annotations

import os

from ..ir import Experiment, Plan
from . import kubernetes, local, provenance, readme, slurm, snakefile, transfers
from .errors import BackendError
from .writer import FolderError, WriteConflict, check_tree, write_tree

__all__ = ["BackendError", "FolderError", "WriteConflict", "compile_to", "emit"]


def emit(experiment: Experiment, plan: Plan) -> dict[str, str]:
    with provenance.relative_to_root(experiment):
        return _emit(experiment, plan)


def _emit(experiment: Experiment, plan: Plan) -> dict[str, str]:
    files: dict[str, str] = {}

    def add(more: dict[str, str]) -> None:
        clash = sorted(set(files) & set(more))
        if clash:
            raise BackendError(f"two generated files would share a path: {', '.join(clash)}", experiment.span)
        files.update(more)

    placed = {a.site for a in plan.assignments}
    for site in sorted(experiment.sites, key=lambda s: s.name):
        if site.kind == "local" and site.name in placed:
            add(local.emit_site(experiment, plan, site.name))
        elif site.kind == "slurm" and site.name in placed:
            add(slurm.emit_site(experiment, plan, site.name))
    if any(s.kind == "slurm" and s.name in placed for s in experiment.sites):
        add(slurm.submit_script(experiment))
    for site_name in snakefile.kubernetes_sites(experiment, plan):
        add(kubernetes.emit_site(experiment, plan, site_name))
    add(transfers.emit(experiment, plan))
    add(snakefile.emit(experiment, plan))
    add(_pictures(experiment, plan))
    add({"plan.json": readme.plan_json(experiment, plan)})
    add({"README.md": readme.readme(experiment, plan, files)})
    return files


def _pictures(experiment: Experiment, plan: Plan) -> dict[str, str]:
    try:
        from ..placement import dag_svg, gantt_svg, mermaid
    except ImportError:  # the pictures are optional extras of the folder
        return {}
    return {
        "gantt.svg": gantt_svg(experiment, plan),
        "graph.svg": dag_svg(experiment, plan),
        "graph.mmd": mermaid(experiment, plan),
    }


def compile_to(
    experiment: Experiment, plan: Plan, outdir: str | os.PathLike, check: bool = False, force: bool = False
) -> list[str]:
    """Emits the experiment into `outdir` and returns the paths that changed
    (created, rewritten or removed). With `check`, writes nothing and returns
    the paths that differ from what would be written (`mlc compile --check`).
    Raises WriteConflict when a generated file was edited by hand, unless
    `force`; FolderError when the folder cannot be used (see writer.py)."""
    _refuse_sources_inside(experiment, outdir)
    files = emit(experiment, plan)
    if check:
        return check_tree(outdir, files)
    return write_tree(outdir, files, force=force).changed


def _refuse_sources_inside(experiment: Experiment, outdir: str | os.PathLike) -> None:
    """The generated folder is mlc's to rewrite: it must not hold the
    experiment's own files (`-o` pointing at the source's folder)."""
    folder = os.path.abspath(outdir)
    for source in experiment.sources:
        path = os.path.abspath(source)
        if os.path.commonpath([folder, path]) == folder:
            raise FolderError(f"the output folder {outdir} holds the experiment's source {source}: "
                              "choose another output root with -o")
