"""What runs on a Kubernetes site, as Kubernetes workloads: stage instances
grouped into Jobs (one Indexed Job per sweep and pool), services as
Deployments. The names chosen here are the contract with the Snakefile, which
runs one `run-<unit>.sh` per workload."""

from __future__ import annotations

from dataclasses import dataclass

from compiler.backends import launch
from compiler.backends.naming import file_stem, k8s_job_name, k8s_service_name, snake_rule
from compiler.ir import Experiment, Plan, Pool, Service, StageGroup, StageInstance


@dataclass(frozen=True)
class JobWorkload:
    """One Job: the members of a stage placed on one pool that share a pod
    shape. Several members make an Indexed Job whose completion index i runs
    `instances[i]` (members sorted by their sweep index)."""

    unit: str  # the stage name, or `<stage>-<first index>` when the stage is split
    name: str  # the Job's name
    stage: StageGroup
    pool: Pool
    instances: tuple[StageInstance, ...]

    @property
    def indexed(self) -> bool:
        return len(self.instances) > 1


@dataclass(frozen=True)
class ServiceWorkload:
    unit: str  # the service name
    name: str  # the Deployment's and the Service's name
    service: Service
    pool: Pool


Workload = JobWorkload | ServiceWorkload


def run_script_name(unit: str) -> str:
    return f"run-{file_stem(unit)}.sh"


def rule_name(unit: str) -> str:
    """The Snakefile's rule that runs `run-<unit>.sh` (sites/kubernetes: _kube_rule)."""
    return snake_rule(file_stem(unit))


def _pod_shape(instance: StageInstance) -> tuple:
    """What must be equal for members to share one pod template: everything
    but the command and literal environment values, which vary per index."""
    secrets = sorted((name, value.secret) for name, value in instance.env.items() if value.kind == "secret")
    literal_names = sorted(name for name, value in instance.env.items() if value.kind == "literal")
    return (instance.image, instance.resources, instance.retries, tuple(secrets), tuple(literal_names))


def _job_workloads(experiment: Experiment, plan: Plan) -> list[JobWorkload]:
    """Every Job of the experiment, on every Kubernetes site: names must be
    unique across sites that may share a namespace, so they are chosen here
    for all sites at once."""
    kubernetes_sites = {site.name for site in experiment.sites if site.kind == "kubernetes"}
    placed = {
        a.unit: a for a in plan.assignments if a.kind == "instance" and a.site in kubernetes_sites
    }
    workloads: list[JobWorkload] = []
    for stage in sorted(experiment.stages, key=lambda s: s.name):
        members = sorted(
            (experiment.instance(i) for i in stage.instances if i in placed),
            key=lambda inst: inst.index,
        )

        groups: dict[tuple, list[StageInstance]] = {}
        for inst in members:  # in index order, so each group is sorted too
            where = placed[inst.id]
            # A multi-node member is a Job of its own: its completion index is the node's rank.
            alone = (inst.id,) if launch.is_multinode(inst) else ()
            groups.setdefault((where.site, where.pool, _pod_shape(inst), *alone), []).append(inst)
        whole = len(groups) == 1 and len(members) == len(stage.instances)
        for group in groups.values():
            unit = stage.name if whole else f"{stage.name}-{group[0].index}"
            where = placed[group[0].id]
            workloads.append(
                JobWorkload(
                    unit=unit,
                    # A gang's pods are named `<job>-<rank>`: room for the rank in a DNS label.
                    name=k8s_job_name(experiment.name, unit,
                                      reserve=len(f"-{group[0].resources.nodes - 1}") if launch.is_multinode(group[0]) else 0),
                    stage=stage,
                    pool=experiment.pool(f"{where.site}.{where.pool}"),
                    instances=tuple(group),
                )
            )
    return workloads


def _service_workloads(experiment: Experiment, plan: Plan) -> list[ServiceWorkload]:
    kubernetes_sites = {site.name for site in experiment.sites if site.kind == "kubernetes"}
    placed = {a.unit: a for a in plan.assignments if a.kind == "service" and a.site in kubernetes_sites}
    return [
        ServiceWorkload(
            unit=service.name,
            name=k8s_service_name(experiment.name, service.name),
            service=service,
            pool=experiment.pool(f"{placed[service.name].site}.{placed[service.name].pool}"),
        )
        for service in sorted(experiment.services, key=lambda s: s.name)
        if service.name in placed
    ]


@dataclass(frozen=True)
class _Workloads:
    """Every workload of one (experiment, plan), and the one of each unit.
    Built once: the Snakefile asks for the workload of every unit, and
    rebuilding all of them per unit made compiling a sweep quadratic."""

    experiment: Experiment
    plan: Plan
    jobs: tuple[JobWorkload, ...]
    services: tuple[ServiceWorkload, ...]
    by_unit: dict[str, Workload]


# The last index built. The IR is frozen, so the same two objects always give
# the same workloads; holding them keeps their ids from being reused.
_last: _Workloads | None = None


def _workloads(experiment: Experiment, plan: Plan) -> _Workloads:
    global _last
    if _last is None or _last.experiment is not experiment or _last.plan is not plan:
        jobs = tuple(_job_workloads(experiment, plan))
        services = tuple(_service_workloads(experiment, plan))
        by_unit: dict[str, Workload] = {inst.id: job for job in jobs for inst in job.instances}
        by_unit.update((service.unit, service) for service in services)
        _last = _Workloads(experiment, plan, jobs, services, by_unit)
    return _last


def site_workloads(experiment: Experiment, plan: Plan, site_name: str) -> list[Workload]:
    """The workloads of one site, Jobs first, each kind by name."""
    index = _workloads(experiment, plan)
    jobs: list[Workload] = [w for w in index.jobs if w.pool.site == site_name]
    services: list[Workload] = [w for w in index.services if w.pool.site == site_name]
    return jobs + services


def workload_of(experiment: Experiment, plan: Plan, unit: str) -> Workload:
    """The workload that runs a stage instance or service (several sweep
    members share one Indexed Job)."""
    workload = _workloads(experiment, plan).by_unit.get(unit)
    if workload is None:
        raise KeyError(f"{unit} is not placed on a Kubernetes site")
    return workload
