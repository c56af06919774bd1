"""The Jobs that run one tool against the run's work directory (the fetch,
push, publish and ship copies of fetch.py, the results check of check.py):
one container in the site's transfer image, the work volume mounted as every
stage pod mounts it, hardened like every pod, and deleted a day after it ends
(the scripts delete it sooner when they can)."""

from __future__ import annotations

from compiler.backends.kubernetes import pod_policy, pods
from compiler.ir import Experiment, Site
from compiler.lazy import lazy_module

client = lazy_module("kubernetes.client")

FINISHED_TTL = 86400


def tool_job(experiment: Experiment, site: Site, claim: str, *, name: str, object_labels: dict[str, str],
             command: list[str], requests: dict[str, str], limits: dict[str, str], backoff_limit: int):
    """A Job named `name` running `command` (literal for the kubelet: `$`
    already doubled where it must not expand) in the transfer image."""
    settings = site.kubernetes
    assert settings is not None
    container = client.V1Container(
        name=pods.MAIN_CONTAINER,
        image=settings.transfer_image,
        command=command,
        working_dir=pods.WORK_MOUNT,
        env=pods.with_run_env(None),  # the kubelet puts the run id (MLC_RUN, from the pod's label) into paths
        resources=client.V1ResourceRequirements(requests=requests, limits=limits),
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
        backoff_limit=backoff_limit,
        ttl_seconds_after_finished=FINISHED_TTL,
    )
    metadata = client.V1ObjectMeta(
        name=name, labels=pod_policy.object_labels(options, object_labels), annotations=pod_policy.annotations(options),
    )
    return client.V1Job(api_version="batch/v1", kind="Job", metadata=metadata, spec=spec)
