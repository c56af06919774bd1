"""The local back end: one bash script per stage instance or service placed
on a local site, run directly by the Snakefile from the output folder."""

from __future__ import annotations

from ..ir import Experiment, Plan, Service
from . import cache_recipe, commands, launch, service_inputs
from .naming import file_stem, snake_rule
from .sites import local_workdir
from .software import host_software
from .templating import render


STEP_CACHE = "local/step_cache.py"  # a copy of compiler/runner/step_cache.py


def step_cache_file(experiment: Experiment) -> dict[str, str]:
    from .shipping import step_cache_text

    return {STEP_CACHE: step_cache_text(experiment)}


def script_path(site: str, unit: str) -> str:
    return f"local/{file_stem(site)}/{file_stem(unit)}.sh"


def emit_site(experiment: Experiment, plan: Plan, site_name: str) -> dict[str, str]:
    site = experiment.site(site_name)
    files = {}
    for assignment in plan.assignments:
        if assignment.site != site_name:
            continue
        unit = commands.unit_of(experiment, assignment.unit)
        path = script_path(site_name, assignment.unit)
        context = {
            "span": unit.span,
            "unit": assignment.unit,
            "site": site_name,
            "script": path,
            "workdir": local_workdir(site),
            "parents": commands.output_parents(experiment, assignment.unit),
            "env": commands.host_env(experiment, assignment.unit),
            "host_software": host_software(unit),
            "usage_name": snake_rule(assignment.unit),
        }
        rendered = commands.render_command(experiment, plan, assignment.unit)
        context.update(command=launch.single_host(unit, rendered.text), exports=rendered.exports,
                       wait=service_inputs.wait_lines(experiment, plan, assignment.unit))
        if isinstance(unit, Service):
            files[path] = render(
                "local_service.sh.j2", stem=file_stem(unit.name), port=unit.port,
                health=unit.http_health or "", **context,
            )
        else:
            recipe = cache_recipe.recipe_text(experiment, plan, unit.id, rendered)
            files[path] = render("local_stage.sh.j2", recipe=recipe, **context)
            files.update(step_cache_file(experiment))
    return files
