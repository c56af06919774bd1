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
Where the project is is run-time state (.mlc/project, written by `mlc
compile`; or `snakemake --config project=PATH`), so the generated files do
not depend on where the checkout lives.

The result cache travels the same way: a site whose kind runs its steps
through the cache on its own host (`SiteKind.step_cache_copy`) gets the
output folder's copy of runner/step_cache.py as `<work root>/.mlc/
step_cache.py`, by one more copy step (again only when the copy changed)."""

from __future__ import annotations

import os

from ..ir import Experiment, Plan, ProjectPath, Route, Site
from ..project import files_under, project_root
from ..sites import reach, registry
from .naming import file_stem, snake_rule
from .templating import render

PROJECT = "project"  # the source end of a copy: the project on the workflow machine
PROJECT_RECORD = ".mlc/project"  # the project's folder, written by `mlc compile` (run-time state, not generated)
# The Snakefile's name for the project's folder: `--config project=PATH`, else the record.
PROJECT_EXPRESSION = "PROJECT"
# A script run by hand without the Snakefile's setting fails naming what is missing.
_UNSET = "MLC_SOURCE_ROOT-is-not-set"


def record_project(experiment: Experiment, plan: Plan, outdir: str | os.PathLike) -> None:
    """Where the project is, for the Snakefile: written beside the run's
    other state when anything is shipped. Not a generated file, so the output
    is the same wherever the checkout lives."""
    if not needs(experiment, plan):
        return
    record = os.path.join(outdir, PROJECT_RECORD)
    os.makedirs(os.path.dirname(record), exist_ok=True)
    with open(record, "w", encoding="utf-8") as f:
        f.write(project_root(experiment.source) + "\n")


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
    """The project's files behind `paths` (relative to the project): a
    step's inputs, so it runs again when one changes."""
    root = project_root(experiment.source)
    return sorted(f for p in paths for f in files_under(root, p.path))


def link_script(site: Site) -> str:
    return f"ship/{file_stem(site.name)}.sh"


def copy_script(site: Site, path: ProjectPath) -> str:
    return f"ship/{file_stem(site.name)}/{file_stem(path.path)}.sh"


def site_files(experiment: Experiment, plan: Plan) -> dict[str, dict[str, str]]:
    """Site -> the scripts that bring it its project paths (rendered once:
    the files and the README's rows both read them)."""
    files = {}
    for site_name, paths in needs(experiment, plan).items():
        site = experiment.site(site_name)
        files[site_name] = registry.of(site).code_files(experiment, site, paths)
    return files


def emit(experiment: Experiment, plan: Plan, by_site: dict[str, dict[str, str]] | None = None) -> dict[str, str]:
    files: dict[str, str] = cache_files(experiment, plan)
    for scripts in (site_files(experiment, plan) if by_site is None else by_site).values():
        files.update(scripts)
    return files


def readme_rows(experiment: Experiment, plan: Plan, by_site: dict[str, dict[str, str]] | None = None) -> list[dict]:
    """README: each site, the project paths it gets and the scripts that bring them."""
    by_site = site_files(experiment, plan) if by_site is None else by_site
    return [{"site": site_name, "paths": [p.path + ("/" if p.kind == "dir" else "") for p in paths],
             "scripts": sorted(by_site[site_name])}
            for site_name, paths in needs(experiment, plan).items()]


def add_steps(builder) -> dict[str, list]:
    """Site -> the rules that bring its project paths (a unit there waits for
    those of the paths it needs: `steps_for`)."""
    steps = {}
    for site_name, paths in needs(builder.experiment, builder.plan).items():
        site = builder.experiment.site(site_name)
        steps[site_name] = registry.of(site).code_step(builder, site, paths)
    for site in caching_sites(builder.experiment, builder.plan):
        steps.setdefault(site.name, []).append(cache_step(builder, site))
    return steps


def steps_for(builder, site_name: str, unit: str) -> list:
    """The ship steps a unit waits for: those of the `code` list and of its
    own `file()`/`dir()` inputs (or of the folder holding one). A unit never
    waits for another unit's inputs: a thousand stages each reading its own
    file make a thousand edges, not a million. A kind that ships every path
    in one step (the local link) has no per-path steps: its units wait for
    that step. Every unit there waits for the step that ships the result
    cache, which runs it."""
    by_path = builder.ship_rule_of.get(site_name)
    if by_path is None:
        return builder.code_rules.get(site_name, [])
    wanted = [*builder.experiment.code, *project_paths_of(builder.experiment.unit(unit))]
    return [rule for rule in (_shipped_with(by_path, p.path) for p in wanted) if rule is not None] + \
        builder.cache_steps(site_name)


def _shipped_with(by_path: dict, path: str):
    """The step that ships `path`: its own, or that of a folder holding it."""
    parts = path.split("/")
    for end in range(1, len(parts) + 1):
        rule = by_path.get("/".join(parts[:end]))
        if rule is not None:
            return rule
    return None


# --- linking: the workflow machine's own work tree --------------------------

def link_files(experiment: Experiment, site: Site, paths: list[ProjectPath]) -> dict[str, str]:
    from .sites import local_workdir

    return {link_script(site): render("ship_link.sh.j2", span=experiment.span, site=site.name,
                                      workdir=local_workdir(site), paths=[p.path for p in paths])}


def link_step(builder, site: Site, paths: list[ProjectPath]) -> list:
    from .snakefile import Param, Rule

    experiment = builder.experiment
    rule = builder.add(Rule(
        name=snake_rule(f"ship_{site.name}"), comment=f"link the project paths the units on {site.name} read",
        files=[("script", link_script(site))],
        params=[Param("project", site.name, python=PROJECT_EXPRESSION), Param("workdir", site.name, "workdir")],
        shell="MLC_PROJECT={params.project:q} MLC_WORKDIR={params.workdir:q} bash {input.script:q}",
        span=paths[0].span, project_files=inputs(experiment, paths),
    ))
    return [rule]


# --- copying: a site another host reaches ------------------------------------

def _ends(experiment: Experiment, site: Site, path: ProjectPath):
    from .transfers import End, end

    source = End(site=PROJECT, kind="local", path=path.path, root=_UNSET, access="here")
    return source, end(experiment, site.name, path.path)


def copy_files(experiment: Experiment, site: Site, paths: list[ProjectPath]) -> dict[str, str]:
    """A copy script per path: rsync or a stream into the site, or through
    its staging bucket (uploaded here, fetched by a Job in the cluster)."""
    from . import kubernetes
    from .transfers import script_text, via_store

    files = {}
    for path in paths:
        source, target = _ends(experiment, site, path)
        staged: dict = {}
        route = Route(kind="direct-push", runs_on=PROJECT)
        if reach.staged(site):
            moved = kubernetes.shipped(site, path, PROJECT)
            route = moved.route
            staged = {**via_store(experiment, moved), "fetch_script": kubernetes.ship_script(experiment, site, path,
                                                                                               PROJECT)}
        files[copy_script(site, path)] = script_text(experiment, path.span, f"ship {path.path}",
                                                     f"project {path.kind} {path.path}", path.kind, source, target,
                                                     route, **staged)
    return files


def copy_step(builder, site: Site, paths: list[ProjectPath]) -> list:
    from .snakefile import TRANSFER_RETRIES, Param, Rule

    experiment = builder.experiment
    up = builder.up_rule.get(site.name)
    rules = []
    by_path = builder.ship_rule_of.setdefault(site.name, {})
    for path in paths:
        _, target = _ends(experiment, site, path)
        params = [Param("source_root", site.name, python=PROJECT_EXPRESSION)]
        exports = ["MLC_SOURCE_ROOT={params.source_root:q}"]
        for setting, key, join in registry.kind(target.kind).transfer_params(experiment):
            params.append(Param(f"target_{setting}", site.name, key, join))
            exports.append(f"MLC_TARGET_{setting.upper()}={{params.target_{setting}:q}}")
        rules.append(builder.add(Rule(
            name=snake_rule(f"ship_{site.name}_{path.path}"), comment=f"ship {path.path} to {site.name}",
            files=[("script", copy_script(site, path))], params=params,
            shell=" ".join([*exports, "bash {input.script:q}"]), retries=TRANSFER_RETRIES, span=path.span,
            after=[up.flag] if up is not None else [], project_files=inputs(experiment, [path]),
        )))
        by_path[path.path] = rules[-1]
    return rules


# --- the result cache on a remote host ----------------------------------------

_OUTPUT_FOLDER = "."  # the source root of the cache's copy: the Snakefile runs in the output folder
CACHE_SOURCE = "output folder"  # the source end of the cache's copy


# The last answer of caching_sites and what it was for: the Kubernetes back end
# asks once per Job, and each answer walks every assignment (quadratic at a
# thousand stages). The IR is frozen, so the same two objects give the same answer.
_CACHING: list = [None, None, []]


def caching_sites(experiment: Experiment, plan: Plan) -> list[Site]:
    """The sites whose kind ships the step cache, that run a stage through it and that
    a copy can reach (a cluster with neither a staging bucket nor `data_path
    = "exec"` runs its stages uncached)."""
    if _CACHING[0] is not experiment or _CACHING[1] is not plan:
        _CACHING[:] = [experiment, plan, _caching_sites(experiment, plan)]
    return list(_CACHING[2])


def _caching_sites(experiment: Experiment, plan: Plan) -> list[Site]:
    stages = {i.id: i for i in experiment.instances}
    used = {a.site for a in plan.assignments
            if a.unit in stages and registry.of(experiment.site(a.site)).runs_cached(stages[a.unit])}
    return [s for s in experiment.sites if s.name in used and registry.of(s).step_cache_copy
            and registry.of(s).site_reached_by(s)]


def step_cache_text(experiment: Experiment) -> str:
    """The output folder's copy of runner/step_cache.py (standard library only)."""
    from ..runner import step_cache
    from .templating import module_copy

    return module_copy(experiment, step_cache)


def cache_script(site: Site) -> str:
    # `_`: file_stem never starts a name with it, so no project path's script has this name.
    return f"ship/{file_stem(site.name)}/_step_cache.sh"


def cache_copy(site: Site) -> str:
    """The kind's copy of the cache in the output folder."""
    copy = registry.of(site).step_cache_copy
    assert copy is not None, "only caching sites ship the cache"
    return copy


def _cache_ends(experiment: Experiment, site: Site):
    from ..runner.step_cache import STEP_CACHE_HERE  # where its stage scripts (and `mlc clean`) run it
    from .transfers import End, end

    return (End(site=CACHE_SOURCE, kind="local", path=cache_copy(site), root=_OUTPUT_FOLDER, access="here"),
            end(experiment, site.name, STEP_CACHE_HERE))


def cache_files(experiment: Experiment, plan: Plan) -> dict[str, str]:
    """The kinds' copies of the cache and a copy script per site: pushed
    there directly, or (a cluster reached through its staging bucket)
    uploaded here and fetched by a Job in the cluster."""
    from . import kubernetes
    from .transfers import script_text, via_store

    files = {}
    for site in caching_sites(experiment, plan):
        source, target = _cache_ends(experiment, site)
        files[source.path] = step_cache_text(experiment)
        route = Route(kind="direct-push", runs_on=CACHE_SOURCE)
        staged: dict = {}
        if reach.staged(site):
            moved = kubernetes.shipped_cache(site, source.path, CACHE_SOURCE)
            route = moved.route
            staged = {**via_store(experiment, moved),
                      "fetch_script": kubernetes.cache_ship_script(experiment, site, source.path, CACHE_SOURCE)}
        files[cache_script(site)] = script_text(experiment, site.span, "ship the step cache",
                                                f"the result cache {source.path}", "file", source, target,
                                                route, **staged)
    return files


def cache_step(builder, site: Site):
    from .snakefile import TRANSFER_RETRIES, Param, Rule

    source, target = _cache_ends(builder.experiment, site)
    params, exports = [], []
    for setting, key, join in registry.kind(target.kind).transfer_params(builder.experiment):
        params.append(Param(f"target_{setting}", site.name, key, join))
        exports.append(f"MLC_TARGET_{setting.upper()}={{params.target_{setting}:q}}")
    up = builder.up_rule.get(site.name)
    rule = builder.add(Rule(
        name=snake_rule(f"ship_{site.name}_step_cache"), comment=f"ship the result cache to {site.name}",
        files=[("script", cache_script(site)), ("cache", source.path)], params=params,
        shell=" ".join([*exports, "bash {input.script:q}"]), retries=TRANSFER_RETRIES, span=site.span,
        after=[up.flag] if up is not None else [],
    ))
    builder.cache_rules.add(rule.name)
    return rule
