"""The Slurm back end: one sbatch script per (stage, partition) placed on a
Slurm site — a job array when the stage is a sweep.

Every `#SBATCH` value is checked before it is written: sbatch reads those
lines itself, so a value with a space or a newline would silently change the
job (or inject another directive). Names Slurm chooses freely (the job name)
are folded to a safe alphabet; names that must match the cluster (partition,
account, QoS, GPU type) are refused with a clear error instead."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..ir import Experiment, Plan, Pool, Service, Site, Span, StageInstance
from . import cache_recipe, commands, launch, service_inputs, slurm_images, slurm_options, slurm_services
from .errors import BackendError
from .naming import file_stem
from .sites import slurm_settings
from .software import host_software, keeps_site_modules
from .templating import module_copy, render

SUBMIT_SCRIPT = "slurm/submit.sh"
POLLER = "slurm/poller.py"  # a copy of compiler/runner/slurm_poller.py
NOTES_SCRIPT = "slurm/cache_notes.sh"  # the `mlc-cache:` lines of a job's tasks, for the step's log
_CLUSTER_NAME = re.compile(r"[A-Za-z0-9_.+-]+")
_DIRECTIVE_VALUE = re.compile(r"[!-~]+")  # printable ASCII, no space
_JOB_NAME_MAX = 100
_IMAGE_SCHEMES = ("docker://", "docker-archive:", "docker-daemon:", "oras://", "library://", "shub://")


@dataclass(frozen=True)
class JobGroup:
    """The instances of one stage on one partition: one sbatch script."""

    stage: str
    span: Span  # the stage's
    pool: Pool
    instances: tuple[StageInstance, ...]
    array: bool
    split: bool  # the stage also runs on another partition of this site

    @property
    def name(self) -> str:
        return f"{self.stage}.{self.pool.name}" if self.split else self.stage


def job_groups(experiment: Experiment, plan: Plan, site_name: str) -> list[JobGroup]:
    """Groups in stage order (the experiment's topological order)."""
    site = experiment.site(site_name)
    placed: dict[str, dict[str, list[StageInstance]]] = {}
    for assignment in plan.assignments:
        if assignment.site != site_name:
            continue
        unit = commands.unit_of(experiment, assignment.unit)
        if isinstance(unit, Service):
            continue  # a job of its own: slurm_services.py
        placed.setdefault(unit.stage, {}).setdefault(assignment.pool, []).append(unit)
    groups = []
    for stage in experiment.stages:
        pools = placed.get(stage.name, {})
        for pool_name in sorted(pools):
            members = sorted(pools[pool_name], key=lambda i: i.index)
            groups.append(JobGroup(
                stage=stage.name,
                span=stage.span,
                pool=next(p for p in site.pools if p.name == pool_name),
                instances=tuple(members),
                array=bool(stage.sweep_axes) or len(stage.instances) > 1,
                split=len(pools) > 1,
            ))
    return groups


def script_path(site: str, group: JobGroup) -> str:
    return f"slurm/{file_stem(site)}/{file_stem(group.name)}.sbatch"


def emit_site(experiment: Experiment, plan: Plan, site_name: str) -> dict[str, str]:
    site = experiment.site(site_name)
    settings = slurm_settings(site)
    files = {}
    for group in job_groups(experiment, plan, site_name):
        gpus = _group_gpus(group)
        members = [
            {
                "unit": inst.id,
                "index": inst.index,
                "image": _container_image(inst.image),
                "sif": slurm_images.sif_name(_container_image(inst.image), inst.span) if inst.image else None,
                "parents": commands.output_parents(experiment, inst.id),
                "env": commands.host_env(experiment, inst.id),
                "software": host_software(inst),
                **_command(experiment, plan, inst.id),
                "launch_setup": launch.slurm_setup(inst),
                "launcher": launch.slurm_launcher(inst),
                "recipe": cache_recipe.recipe_text(experiment, plan, inst.id),
            }
            for inst in group.instances
        ]
        files[script_path(site_name, group)] = render(
            "sbatch.sh.j2",
            span=group.span,
            stage=group.stage,
            site=site_name,
            pool=group.pool.name,
            array=group.array,
            directives=directives(experiment, site, group),
            modules=settings.modules if keeps_site_modules(list(group.instances)) else [],
            signal=slurm_options.group_options(group.stage, group.instances, group.span).signal,
            container=settings.container,
            gpus=gpus is not None,
            members=members,
            # Defined once, before the members: each member's task calls them.
            wait_functions=service_inputs.functions() if any(m["wait"] for m in members) else "",
        )
    files.update(slurm_images.images_script(experiment, site_name, settings.container,
                                            site_images(experiment, plan, site_name)))
    files.update(slurm_services.emit_site(experiment, plan, site_name))
    return files


def site_images(experiment: Experiment, plan: Plan, site_name: str) -> list[tuple[str, Span]]:
    """The image (as apptainer names it) of each instance placed on the site."""
    return [(_container_image(inst.image), inst.span)
            for group in job_groups(experiment, plan, site_name) for inst in group.instances if inst.image]


def _command(experiment: Experiment, plan: Plan, unit: str) -> dict:
    rendered = commands.render_command(experiment, plan, unit)
    text = launch.wrap(experiment.instance(unit), rendered.text, launch.SLURM)
    return {"command": text, "exports": rendered.exports,
            "wait": service_inputs.wait_calls(experiment, plan, unit)}


def submit_script(experiment: Experiment) -> dict[str, str]:
    """The helper every Slurm rule submits through, the poller it waits
    through, and the helper that brings its tasks' cache notes back (shared
    by all Slurm sites)."""
    from ..runner import slurm_poller

    return {SUBMIT_SCRIPT: render("submit.sh.j2", span=experiment.span),
            POLLER: module_copy(experiment, slurm_poller),
            NOTES_SCRIPT: render("slurm_cache_notes.sh.j2", span=experiment.span)}


def cache_notes(group: JobGroup) -> str:
    """The names of the group's cache notes (runner/step_cache.note_name), for NOTES_SCRIPT."""
    from ..runner.step_cache import note_name

    return " ".join(note_name(inst.id) for inst in group.instances)


def directives(experiment: Experiment, site: Site, group: JobGroup) -> list[tuple[str, str | None]]:
    """The `#SBATCH` options of a job group, each value validated."""
    settings = slurm_settings(site)
    span = group.span
    resources = [inst.resources for inst in group.instances]
    options = [
        ("job-name", job_name(experiment.name, group.name)),
        ("partition", _cluster_name("partition", group.pool.name, group.pool.span)),
    ]
    if settings.account:
        options.append(("account", _cluster_name("account", settings.account, site.span)))
    if settings.qos:
        options.append(("qos", _cluster_name("qos", settings.qos, site.span)))
    first = group.instances[0]  # the members of a group share their stage's shape and launch
    multinode = launch.is_multinode(first)
    options += [
        *(launch.slurm_directives(first) if multinode else [("nodes", "1"), ("ntasks", "1")]),
        ("cpus-per-task", str(max(1, max(r.cpus for r in resources) // launch.tasks_per_node(first)))),
        ("mem", f"{math.ceil(max(r.memory for r in resources) / 1024**2)}M"),  # per node
    ]
    gpus = _group_gpus(group)
    if gpus is not None:
        count, gpu_type = gpus
        typed = f"{_cluster_name('GPU type', gpu_type, span)}:{count}" if gpu_type else str(count)
        if settings.gpu_directive == "gpus":
            options.append(("gpus-per-node" if multinode else "gpus", typed))  # --gres is per node already
        else:
            options.append(("gres", f"gpu:{typed}"))
    options.append(("time", slurm_time(max(r.time for r in resources))))
    log = "logs/%x-%A_%a" if group.array else "logs/%x-%j"
    options += [("output", f"{log}.out"), ("error", f"{log}.err")]
    if group.array:
        options.append(("array", array_indices([inst.index for inst in group.instances])))
    options += slurm_options.directives(slurm_options.group_options(group.stage, group.instances, span))
    for name, value in options:
        # Defence in depth: nothing unchecked may ever reach a #SBATCH line.
        if value is not None and not _DIRECTIVE_VALUE.fullmatch(value):
            raise BackendError(f"invalid value for #SBATCH --{name}: {value!r}", span)
    return options


def job_name(experiment: str, group: str) -> str:
    """`<experiment>-<stage>` folded to letters, digits, `_`, `.`, `-`."""
    folded = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{experiment}-{group}")
    return folded[:_JOB_NAME_MAX]


def slurm_time(seconds: float) -> str:
    """D-HH:MM:SS, rounded up to the second."""
    total = max(1, math.ceil(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}-{hours:02d}:{minutes:02d}:{secs:02d}"


def array_indices(indices: list[int]) -> str:
    """`0-2,5,7-8`: consecutive runs collapsed into ranges."""
    runs: list[list[int]] = []
    for index in sorted(set(indices)):
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _group_gpus(group: JobGroup) -> tuple[int, str | None] | None:
    requests = [inst.resources.gpus for inst in group.instances if inst.resources.gpus]
    if not requests:
        return None
    types = sorted({g.type for g in requests if g.type})
    if len(types) > 1:
        raise BackendError(
            f"the members of `{group.stage}` on one partition ask for different GPU types: {', '.join(types)}",
            group.span,
        )
    return max(g.count for g in requests), (types[0] if types else None)


def _cluster_name(what: str, value: str, span) -> str:
    if not _CLUSTER_NAME.fullmatch(value):
        raise BackendError(
            f"{what} {value!r} cannot be passed to Slurm: use letters, digits and `_.+-` only", span
        )
    return value


def _container_image(image: str | None) -> str | None:
    """An image reference apptainer understands: a bare `repo:tag` is a
    Docker image; a scheme or a local path (.sif) is kept."""
    if image is None:
        return None
    if image.startswith(_IMAGE_SCHEMES) or image.startswith("/") or image.endswith(".sif"):
        return image
    return "docker://" + image
