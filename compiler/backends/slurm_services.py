"""Services on a Slurm site: one batch job per service that serves until it
is cancelled, publishing its URL in the work tree once it answers on its
node (templates/slurm_service.sbatch.j2), and slurm/service.sh, which the
workflow's rules run to start it (submit, wait for the address) and to stop
it (scancel).

The job's time limit covers the consumers' span: the larger of the
service's own `time` and twice the planned time from its start to its last
consumer's end (estimates are guesses; a service that ends early fails its
consumers, one that lingers is cancelled by the workflow), capped at the
partition's max_time."""

from __future__ import annotations

import math

from ..ir import Experiment, Plan, Service, Site
from ..sites.base import published_address
from . import commands, service_inputs
from .errors import BackendError
from .naming import file_stem
from .sites import slurm_settings
from .templating import render

SERVICE_SCRIPT = "slurm/service.sh"
SPAN_MARGIN = 2.0


def script_path(site: str, service: str) -> str:
    return f"slurm/{file_stem(site)}/{file_stem(service)}.service.sbatch"


def time_limit(experiment: Experiment, plan: Plan, service: Service) -> float:
    """Seconds: the service's `time`, or twice its planned span if longer,
    at most the partition's max_time."""
    where = plan.where(service.name)
    ends = [plan.where(c).finish for c in service.consumers]
    span = (max(ends) - where.start) if ends else 0.0
    limit = max(service.resources.time, SPAN_MARGIN * span)
    pool = next(p for p in experiment.site(where.site).pools if p.name == where.pool)
    return min(limit, pool.max_time) if pool.max_time is not None else limit


def directives(experiment: Experiment, plan: Plan, site: Site, service: Service) -> list[tuple[str, str]]:
    from .slurm import _DIRECTIVE_VALUE, _cluster_name, job_name, slurm_time

    settings = slurm_settings(site)
    pool = next(p for p in site.pools if p.name == plan.where(service.name).pool)
    res = service.resources
    options = [("job-name", job_name(experiment.name, service.name)),
               ("partition", _cluster_name("partition", pool.name, pool.span))]
    if settings.account:
        options.append(("account", _cluster_name("account", settings.account, site.span)))
    if settings.qos:
        options.append(("qos", _cluster_name("qos", settings.qos, site.span)))
    options += [("nodes", "1"), ("ntasks", "1"), ("cpus-per-task", str(res.cpus)),
                ("mem", f"{math.ceil(res.memory / 1024**2)}M")]
    if res.gpus is not None and res.gpus.count:
        typed = (f"{_cluster_name('GPU type', res.gpus.type, service.span)}:{res.gpus.count}"
                 if res.gpus.type else str(res.gpus.count))
        options.append(("gpus", typed) if settings.gpu_directive == "gpus" else ("gres", f"gpu:{typed}"))
    options.append(("time", slurm_time(time_limit(experiment, plan, service))))
    options += [("output", "logs/%x-%j.out"), ("error", "logs/%x-%j.err")]
    for name, value in options:
        if not _DIRECTIVE_VALUE.fullmatch(value):
            raise BackendError(f"invalid value for #SBATCH --{name}: {value!r}", service.span)
    return options


def emit_site(experiment: Experiment, plan: Plan, site_name: str) -> dict[str, str]:
    from .slurm import _container_image

    site = experiment.site(site_name)
    settings = slurm_settings(site)
    files = {}
    for assignment in plan.assignments:
        unit = commands.unit_of(experiment, assignment.unit)
        if assignment.site != site_name or not isinstance(unit, Service):
            continue
        rendered = commands.render_command(experiment, plan, unit.name)
        if not rendered.text.strip():
            raise BackendError(f"service `{unit.name}` on a Slurm site needs a `run` command "
                               "(a batch job has no image entrypoint to start)", unit.span)
        files[script_path(site_name, unit.name)] = render(
            "slurm_service.sbatch.j2", span=unit.span, unit=unit.name, site=site_name,
            pool=assignment.pool, port=unit.port, health=unit.http_health or "",
            address=published_address(unit), directives=directives(experiment, plan, site, unit),
            modules=settings.modules, container=settings.container, image=_container_image(unit.image),
            gpus=bool(unit.resources.gpus and unit.resources.gpus.count),
            parents=commands.output_parents(experiment, unit.name), env=commands.host_env(experiment, unit.name),
            command=rendered.text, exports=rendered.exports, wait=service_inputs.wait_lines(experiment, plan, unit.name),
            answers=service_inputs.ANSWERS,
        )
    if files:
        files[SERVICE_SCRIPT] = render("slurm_service.sh.j2", span=experiment.span)
    return files
