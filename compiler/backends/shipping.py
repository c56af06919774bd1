"""Code shipping: the project paths the units of a site need (the
experiment's `code` list on every site that runs a unit, each `file()`/
`dir()` input on the site of its reader) reach that site's work tree under
the same relative path, before any unit there starts.

How they arrive is the kind's to say (`SiteKind.code_files`/`code_step`):
a site reached over ssh or kubectl gets a copy through the transfer
scripts, one per path (`rsync -a`, which sends only what changed); the
workflow machine's own site links its work tree to the project instead of
copying. Each step lists the project's files as its inputs, so Snakemake
runs it again only when one of them changed (and then the units after it).
The project is found from the output folder by a relative path, so the
output does not depend on where the checkout lives."""

from __future__ import annotations

import contextlib
import contextvars
import os
import posixpath
from collections.abc import Iterator

from ..ir import Experiment, Plan, ProjectPath, Route, Site
from ..project import files_under, project_root
from ..sites import registry
from .naming import file_stem, snake_rule
from .templating import render

_output_folder: contextvars.ContextVar[str | None] = contextvars.ContextVar("mlc_output_folder", default=None)
PROJECT = "project"  # the source end of a copy: the project on the workflow machine


@contextlib.contextmanager
def output_folder(outdir: str | os.PathLike) -> Iterator[None]:
    """Emission writes into `outdir` (without it: out/<experiment>, as `mlc compile` does)."""
    token = _output_folder.set(os.path.abspath(outdir))
    try:
        yield
    finally:
        _output_folder.reset(token)


def project_from_output(experiment: Experiment) -> str:
    """The project's folder as seen from the output folder (relative)."""
    outdir = _output_folder.get() or os.path.abspath(os.path.join("out", experiment.name))
    return os.path.relpath(project_root(experiment.source), outdir).replace(os.sep, "/")


def needs(experiment: Experiment, plan: Plan) -> dict[str, list[ProjectPath]]:
    """Site -> the project paths its units need, sorted, none inside another."""
    wanted: dict[str, dict[str, ProjectPath]] = {}
    for assignment in plan.assignments:
        unit = experiment.unit(assignment.unit)
        paths = wanted.setdefault(assignment.site, {})
        for project_path in [*experiment.code, *project_paths_of(unit)]:
            paths.setdefault(project_path.path, project_path)
    return {site: _outermost(paths) for site, paths in sorted(wanted.items()) if paths}


def project_paths_of(unit) -> list[ProjectPath]:
    """A unit's `file()`/`dir()` inputs."""
    return [ProjectPath(path=p.source.path, kind=p.source.kind, span=p.source.span)
            for p in unit.inputs if p.source is not None]


def _outermost(paths: dict[str, ProjectPath]) -> list[ProjectPath]:
    """The paths not inside another folder of the list (shipped with it)."""
    folders = [p.path for p in paths.values() if p.kind == "dir"]
    return [paths[path] for path in sorted(paths)
            if not any(path.startswith(folder + "/") for folder in folders)]


def inputs(experiment: Experiment, paths: list[ProjectPath]) -> list[str]:
    """The project's files behind `paths`, as the Snakefile names them
    (relative to the output folder): a step's inputs, so it runs again when one changes."""
    root, seen_from_output = project_root(experiment.source), project_from_output(experiment)
    return [posixpath.join(seen_from_output, f) for p in paths for f in files_under(root, p.path)]


def link_script(site: Site) -> str:
    return f"ship/{file_stem(site.name)}.sh"


def copy_script(site: Site, path: ProjectPath) -> str:
    return f"ship/{file_stem(site.name)}/{file_stem(path.path)}.sh"


def emit(experiment: Experiment, plan: Plan) -> dict[str, str]:
    files: dict[str, str] = {}
    for site_name, paths in needs(experiment, plan).items():
        site = experiment.site(site_name)
        files.update(registry.of(site).code_files(experiment, site, paths))
    return files


def readme_rows(experiment: Experiment, plan: Plan) -> list[dict]:
    """README: each site, the project paths it gets and the scripts that bring them."""
    rows = []
    for site_name, paths in needs(experiment, plan).items():
        site = experiment.site(site_name)
        scripts = sorted(registry.of(site).code_files(experiment, site, paths))
        rows.append({"site": site_name, "paths": [p.path + ("/" if p.kind == "dir" else "") for p in paths],
                     "scripts": scripts})
    return rows


def add_steps(builder) -> dict[str, list]:
    """Site -> the rules that bring its project paths (each unit there waits for them)."""
    steps = {}
    for site_name, paths in needs(builder.experiment, builder.plan).items():
        site = builder.experiment.site(site_name)
        steps[site_name] = registry.of(site).code_step(builder, site, paths)
    return steps


# --- linking: the workflow machine's own work tree --------------------------

def link_files(experiment: Experiment, site: Site, paths: list[ProjectPath]) -> dict[str, str]:
    from .sites import local_workdir

    return {link_script(site): render("ship_link.sh.j2", span=experiment.span, site=site.name,
                                      project=project_from_output(experiment), workdir=local_workdir(site),
                                      paths=[p.path for p in paths])}


def link_step(builder, site: Site, paths: list[ProjectPath]) -> list:
    from .snakefile import Param, Rule

    experiment = builder.experiment
    rule = builder.add(Rule(
        name=snake_rule(f"ship_{site.name}"), comment=f"link the project paths the units on {site.name} read",
        files=[("script", link_script(site))],
        params=[Param("project", site.name, value=project_from_output(experiment)),
                Param("workdir", site.name, "workdir")],
        shell="MLC_PROJECT={params.project:q} MLC_WORKDIR={params.workdir:q} bash {input.script:q}",
        span=paths[0].span, after=sorted(inputs(experiment, paths)),
    ))
    return [rule]


# --- copying: a site another host reaches ------------------------------------

def _ends(experiment: Experiment, site: Site, path: ProjectPath):
    from .transfers import End, end

    source = End(site=PROJECT, kind="local", path=path.path, root=project_from_output(experiment), access="here")
    return source, end(experiment, site.name, path.path)


def copy_files(experiment: Experiment, site: Site, paths: list[ProjectPath]) -> dict[str, str]:
    from . import kubernetes
    from .naming import k8s_data_mover
    from .transfers import remote_tools, tools

    route = Route(kind="direct-push", runs_on=PROJECT)
    files = {}
    for path in paths:
        source, target = _ends(experiment, site, path)
        files[copy_script(site, path)] = render(
            "transfer.sh.j2", span=path.span, id=f"ship {path.path}", what=f"project {path.kind} {path.path}",
            kind=path.kind, source=source, target=target, route=route,
            tools=tools(source, target, route), remote_tools=remote_tools(source, target, route),
            mover=k8s_data_mover(experiment.name), mover_root=kubernetes.WORK_MOUNT,
        )
    return files


def copy_step(builder, site: Site, paths: list[ProjectPath]) -> list:
    from .snakefile import TRANSFER_RETRIES, Param, Rule

    experiment = builder.experiment
    up = builder.up_rule.get(site.name)
    rules = []
    for path in paths:
        _, target = _ends(experiment, site, path)
        params, exports = [], []
        for setting, key, join in registry.kind(target.kind).transfer_params(experiment):
            params.append(Param(f"target_{setting}", site.name, key, join))
            exports.append(f"MLC_TARGET_{setting.upper()}={{params.target_{setting}:q}}")
        rules.append(builder.add(Rule(
            name=snake_rule(f"ship_{site.name}_{path.path}"), comment=f"ship {path.path} to {site.name}",
            files=[("script", copy_script(site, path))], params=params,
            shell=" ".join([*exports, "bash {input.script:q}"]), retries=TRANSFER_RETRIES, span=path.span,
            after=sorted(inputs(experiment, [path]) + ([up.flag] if up is not None else [])),
        )))
    return rules
