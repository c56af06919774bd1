"""Transfers the cluster runs itself: a data set in object storage (s3://,
gs://) that a Kubernetes site's units read is copied into the site's work
volume by a Job inside the cluster (`fetch-<transfer>.sh` applies it and
waits), with rclone from the site's `transfer_image`. The bytes go from
the bucket to the volume, never through the API server or the workflow
machine; rclone skips files already copied whole, so a retried or re-run
transfer resumes where it stopped. Credentials come from the pod's identity
(`service_account`, e.g. IRSA or GKE workload identity) or the node's."""

from __future__ import annotations

from dataclasses import dataclass

from compiler.backends.kubernetes import labels, pod_policy, pods
from compiler.backends.naming import K8S_NAME_MAX, dns1123, file_stem
from compiler.ir import Experiment, Plan, Site, Transfer
from compiler.lazy import lazy_module

# The client (~0.2 s to import) only when a Kubernetes site is compiled.
client = lazy_module("kubernetes.client")

# rclone's on-the-fly remotes: no config file, credentials from the
# environment (the pod's service account or the node's role).
_REMOTES = {"s3": (":s3:", ["--s3-provider=AWS", "--s3-env-auth"]), "gs": (":gcs:", ["--gcs-env-auth"])}
# Transient failures are retried inside the pod; the Job's backoff then
# starts a new pod, which skips what is already there.
_RCLONE_FLAGS = ["--retries=5", "--low-level-retries=20", "--stats=60s", "--stats-one-line"]
FETCH_BACKOFF = 3


@dataclass(frozen=True)
class Fetch:
    transfer: Transfer
    name: str  # the Job's name (before the run suffix)

    @property
    def script(self) -> str:
        return f"fetch-{file_stem(self.transfer.id)}.sh"

    @property
    def manifest(self) -> str:
        return f"{self.name}-job.yaml"


def is_fetch(experiment: Experiment, transfer: Transfer) -> bool:
    """A transfer from object storage that the Kubernetes target runs."""
    target = experiment.site(transfer.target_site)
    return (
        target.kind == "kubernetes"
        and "://" in transfer.path
        and transfer.route.kind == "direct-pull"
        and transfer.route.runs_on == target.name
    )


def site_fetches(experiment: Experiment, plan: Plan, site_name: str) -> list[Fetch]:
    return [
        Fetch(transfer, dns1123(f"{experiment.name}-fetch-{transfer.id}", K8S_NAME_MAX))
        for transfer in plan.transfers
        if transfer.target_site == site_name and is_fetch(experiment, transfer)
    ]


def rclone_command(transfer: Transfer) -> list[str]:
    scheme, _, rest = transfer.path.partition("://")
    remote, flags = _REMOTES[scheme]
    verb = "copy" if transfer.kind == "dir" else "copyto"  # copyto: a file to that very name
    target = f"{pods.WORK_MOUNT}/{transfer.target_path}"
    return ["rclone", verb, f"{remote}{rest}", target, *flags, *_RCLONE_FLAGS]


def fetch_job(experiment: Experiment, site: Site, claim: str, fetch: Fetch) -> client.V1Job:
    settings = site.kubernetes
    assert settings is not None
    object_labels = labels.object_labels(experiment.name, name="fetch", instance=fetch.name, component="transfer")
    container = client.V1Container(
        name=pods.MAIN_CONTAINER,
        image=settings.transfer_image,
        command=rclone_command(fetch.transfer),  # no shell: rclone is PID 1 and gets SIGTERM
        working_dir=pods.WORK_MOUNT,
        env=pods.with_run_env(None),
        resources=client.V1ResourceRequirements(
            requests={"cpu": "500m", "memory": "256Mi"}, limits={"cpu": "2", "memory": "1Gi"}
        ),
        volume_mounts=[pods.work_mount(experiment)],
    )
    pod = client.V1PodSpec(
        containers=[container],
        restart_policy="Never",
        image_pull_secrets=pods.pull_secrets(site),
        volumes=[pods.work_volume(claim)],
    )
    options = pod_policy.pod_options(site, None)
    spec = client.V1JobSpec(
        template=pod_policy.pod_template(pod, object_labels, site, None),
        backoff_limit=FETCH_BACKOFF,
        ttl_seconds_after_finished=86400,
    )
    metadata = client.V1ObjectMeta(
        name=fetch.name, labels=pod_policy.object_labels(options, object_labels),
        annotations=pod_policy.annotations(options),
    )
    return client.V1Job(api_version="batch/v1", kind="Job", metadata=metadata, spec=spec)
