"""A multi-node stage on Kubernetes: an Indexed Job with one pod per node
(completions = parallelism = nodes), a headless Service that gives each pod
a stable host name (`<job>-<index>.<service>`), the rank from the
completion index and the master at pod 0 (docs/kubernetes.md, "Multi-node
stages", says why not JobSet or PyTorchJob)."""

from __future__ import annotations

from shlex import quote

from compiler.backends import launch
from compiler.backends.kubernetes import labels
from compiler.backends.kubernetes.workloads import JobWorkload
from compiler.ir import Experiment, StageInstance
from compiler.lazy import lazy_module

# The client (~0.2 s to import) only when a Kubernetes site is compiled.
client = lazy_module("kubernetes.client")

RENDEZVOUS_PORT = launch.BASE_PORT


def is_gang(workload: JobWorkload) -> bool:
    return launch.is_multinode(workload.instances[0])


def rendezvous(workload: JobWorkload) -> launch.Rendezvous:
    return launch.Rendezvous(node_rank='"${JOB_COMPLETION_INDEX:-0}"', run_id=quote(workload.name))


# Pod 0's stable name, worked out in the pod: the Indexed Job names its
# pods' hosts `<job>-<index>` and the headless Service (the subdomain) is
# named like the Job. Read from the pod's own host name rather than written
# in, because the run scripts add `-<run>` to every name when they apply
# (run_identity.py), so the Job's final name is known only in the cluster.
MASTER_HOST = 'job_host=${HOSTNAME:-$(hostname)}; job_host=${job_host%-*}'
MASTER_ADDR = '"$job_host-0.$job_host"'

# kustomize renames a Service but not a Job's `subdomain` that names it; this
# configuration tells it to, so the suffix of a run keeps the pair matched.
KUSTOMIZE_CONFIG = "kustomizeconfig.yaml"
_NAME_REFERENCES = {"nameReference": [{
    "kind": "Service", "version": "v1",
    "fieldSpecs": [{"kind": "Job", "group": "batch", "path": "spec/template/spec/subdomain"}],
}]}


def kustomize_config() -> dict:
    return _NAME_REFERENCES


def setup_lines(workload: JobWorkload) -> list[str]:
    """The rendezvous variables every pod exports before the command."""
    instance = workload.instances[0]
    return [
        f"export MLC_NNODES={instance.resources.nodes}",
        MASTER_HOST,
        f"export MLC_MASTER_ADDR={MASTER_ADDR}",
        f"export MLC_MASTER_PORT={RENDEZVOUS_PORT}",
    ]


def run_lines(instance: StageInstance, run_command: str) -> list[str]:
    """How the pod starts the command: once, or (srun, mpirun) once per
    task of the node, waiting for all and failing when one fails. A POSIX
    sh loop: the glue runs under /bin/sh."""
    tasks = launch.tasks_per_node(instance)
    if tasks == 1:
        return [run_command]
    return [
        'pids=""',
        "task=0",
        f'while [ "$task" -lt {tasks} ]; do',
        '  MLC_LOCAL_RANK="$task" bash -eo pipefail -c "$command" &',
        '  pids="$pids $!"',
        "  task=$((task + 1))",
        "done",
        "status=0",
        'for pid in $pids; do wait "$pid" || status=$?; done',
        'exit "$status"',
    ]


def job_spec(template: client.V1PodTemplateSpec, workload: JobWorkload) -> client.V1JobSpec:
    """All pods at once, one per node; a failed pod fails the run as a
    whole (the gang restarts together through the Job's retries)."""
    instance = workload.instances[0]
    nodes = instance.resources.nodes
    template.spec.subdomain = workload.name
    # Whole nodes: never two pods of the gang on one node.
    template.spec.affinity = client.V1Affinity(pod_anti_affinity=client.V1PodAntiAffinity(
        required_during_scheduling_ignored_during_execution=[client.V1PodAffinityTerm(
            label_selector=client.V1LabelSelector(match_labels=labels.pod_selector(workload.name)),
            topology_key="kubernetes.io/hostname")]))
    return client.V1JobSpec(
        template=template,
        completion_mode="Indexed",
        completions=nodes,
        parallelism=nodes,
        backoff_limit=instance.retries,
    )


def headless_service(experiment: Experiment, workload: JobWorkload) -> client.V1Service:
    """Gives the Job's pods their DNS names; ready or not, so that rank 0's
    name resolves while the others are still starting."""
    object_labels = labels.object_labels(
        experiment.name, name=workload.stage.name, instance=workload.name, component="stage",
        stage=workload.stage.name,
    )
    spec = client.V1ServiceSpec(
        cluster_ip="None",
        selector=labels.pod_selector(workload.name),
        publish_not_ready_addresses=True,
        ports=[client.V1ServicePort(name="rendezvous", port=RENDEZVOUS_PORT, protocol="TCP")],
    )
    return client.V1Service(api_version="v1", kind="Service",
                            metadata=client.V1ObjectMeta(name=workload.name, labels=object_labels), spec=spec)
