"""The ssh kind's files: one bash script per stage instance or service
placed on an ssh site (copied to the host and run there), and the run-time
driver with its copy of the transport, which the Snakefile and the transfer
scripts call."""

from __future__ import annotations

import posixpath
from pathlib import Path

from ...backends import cache_recipe, commands, launch, service_inputs
from ...backends.naming import file_stem, snake_rule
from ...backends.software import host_software
from ...backends.templating import render
from ...ir import Experiment, Plan, Service, Site, SshSettings
from ...transport import ssh as transport_module
from . import driver as driver_module

DRIVER = "ssh/driver.py"
TRANSPORT = "ssh/transport.py"  # the driver imports it as `transport`


def settings(site: Site) -> SshSettings:
    assert site.ssh is not None, "the front end gives every ssh site its settings"
    return site.ssh


def work_root(experiment: Experiment, site: Site) -> str:
    """The experiment's work root on the host (relative: to the login directory)."""
    return posixpath.join(settings(site).workdir.rstrip("/") or "/", experiment.name)


def script_path(site: str, unit: str) -> str:
    return f"ssh/{file_stem(site)}/{file_stem(unit)}.sh"


def usage_name(unit: str) -> str:
    """The stage's usage file, .mlc/usage/<name>.json, under the work root on
    the host and in the output folder (the driver copies it back): its rule's name."""
    return snake_rule(unit)


def driver_files() -> dict[str, str]:
    """The driver and the transport it runs, as they are in this compiler."""
    return {DRIVER: Path(driver_module.__file__).read_text(encoding="utf-8"),
            TRANSPORT: Path(transport_module.__file__).read_text(encoding="utf-8")}


def emit_site(experiment: Experiment, plan: Plan, site_name: str) -> dict[str, str]:
    files = {}
    for assignment in plan.assignments:
        if assignment.site != site_name:
            continue
        unit = commands.unit_of(experiment, assignment.unit)
        rendered = commands.render_command(experiment, plan, assignment.unit)
        files[script_path(site_name, assignment.unit)] = render(
            "ssh_unit.sh.j2", span=unit.span, unit=assignment.unit, site=site_name,
            port=unit.port if isinstance(unit, Service) else None,
            parents=commands.output_parents(experiment, assignment.unit),
            env=commands.host_env(experiment, assignment.unit),
            host_software=host_software(unit), command=launch.single_host(unit, rendered.text),
            exports=rendered.exports,
            wait=service_inputs.wait_lines(experiment, plan, assignment.unit),
            usage_name=usage_name(assignment.unit),
            recipe=None if isinstance(unit, Service) else cache_recipe.recipe_text(experiment, plan, assignment.unit,
                                                                                 rendered),
        )
    return files
