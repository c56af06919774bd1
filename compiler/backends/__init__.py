"""Code generation: every file of the output folder `out/<experiment>/`.

`emit(experiment, plan)` returns the files as {path relative to the folder:
text}; `compile_to` writes them (or checks them) through the writer.
docs/codegen.md describes the layout and the decisions behind it."""

from __future__ import annotations

import os

import yaml

from ..ir import NO_ENTRIES, NO_ITEMS

# The IR's shared empty list and map (ir.NO_ITEMS, NO_ENTRIES) subclass list
# and dict, which PyYAML's safe dumper only takes as its own when told:
# written as [] and {}. Before the modules below, whose dumpers copy the
# safe dumper's table when they add to it.
yaml.SafeDumper.add_representer(type(NO_ITEMS), yaml.SafeDumper.represent_list)
yaml.SafeDumper.add_representer(type(NO_ENTRIES), yaml.SafeDumper.represent_dict)

from .. import shapes
from ..ir import Experiment, Plan
from ..sites import registry
from ..sites.base import Feature
from . import provenance, publishing, readme, shipping, snakefile, transfers
from .errors import BackendError
from .writer import FolderError, WriteConflict, check_tree, write_tree

__all__ = ["BackendError", "FolderError", "WriteConflict", "compile_to", "emit"]


def emit(experiment: Experiment, plan: Plan) -> dict[str, str]:
    experiment = shapes.apply_plan(experiment, plan)  # each job asks for the shape placement chose
    with provenance.relative_to_root(experiment):
        return _emit(experiment, plan)


def _emit(experiment: Experiment, plan: Plan) -> dict[str, str]:
    files: dict[str, str] = {}

    def add(more: dict[str, str]) -> None:
        clash = sorted(set(files) & set(more))
        if clash:
            raise BackendError(f"two generated files would share a path: {', '.join(clash)}", experiment.span)
        files.update(more)

    _refuse_unhostable(experiment, plan)
    used = snakefile.used_sites(plan)
    for site in sorted(experiment.sites, key=lambda s: s.name):
        if site.name in used:
            add(registry.of(site).site_files(experiment, plan, site))
    placed = {a.site for a in plan.assignments}
    for kind in registry.KINDS.values():
        if any(registry.of(s) is kind and s.name in placed for s in experiment.sites):
            add(kind.shared_files(experiment))
    add(transfers.emit(experiment, plan))
    shipped = shipping.site_files(experiment, plan)
    add(shipping.emit(experiment, plan, shipped))
    add(publishing.emit(experiment, plan))
    add(snakefile.emit(experiment, plan))
    add(_pictures(experiment, plan))
    add({"plan.json": readme.plan_json(experiment, plan)})
    add({"README.md": readme.readme(experiment, plan, files, shipped)})
    return files


def _refuse_unhostable(experiment: Experiment, plan: Plan) -> None:
    """fit.py keeps services off kinds that cannot host them; a plan that
    says otherwise is a bug upstream, not a file to write."""
    for assignment in plan.assignments:
        kind = registry.of(experiment.site(assignment.site))
        if assignment.kind == "service" and not kind.has(Feature.SERVICES):
            service = next(s for s in experiment.services if s.name == assignment.unit)
            raise BackendError(f"service `{service.name}` is placed on the {kind.title} site "
                               f"`{assignment.site}`, which hosts no services", service.span)


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
    changed = write_tree(outdir, files, force=force).changed
    shipping.record_project(experiment, plan, outdir)
    return changed


def _refuse_sources_inside(experiment: Experiment, outdir: str | os.PathLike) -> None:
    """The generated folder is mlc's to rewrite: it must not hold the
    experiment's own files (`-o` pointing at the source's folder)."""
    folder = os.path.abspath(outdir)
    for source in experiment.sources:
        path = os.path.abspath(source)
        if os.path.commonpath([folder, path]) == folder:
            raise FolderError(f"the output folder {outdir} holds the experiment's source {source}: "
                              "choose another output root with -o")
