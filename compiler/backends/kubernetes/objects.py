"""The Kubernetes objects of one site, as `kubernetes.client` models: a Job
per stage workload, a Deployment and a Service per service, and the site's
plumbing (work volume claim, data mover)."""

from __future__ import annotations

from compiler.backends.kubernetes import labels, multinode, pod_policy, pods
from compiler.backends.kubernetes.pod_commands import (
    SHELL,
    job_script,
    service_script,
    varying_literal_env,
)
from compiler.backends.kubernetes.workloads import JobWorkload, ServiceWorkload
from compiler.backends.naming import k8s_data_mover
from compiler.ir import Experiment, Plan, PodOptions, Service, Site, StageInstance
from compiler.lazy import lazy_module

# The client (~0.2 s to import) only when a Kubernetes site is compiled.
client = lazy_module("kubernetes.client")

# A service may pull a large image (a GPU runtime) before it is ready.
SERVICE_PROGRESS_DEADLINE = 1800
# A finished Job (and its pods' logs) stays a day for `kubectl logs`, then
# the cluster removes it; run scripts replace a finished Job long before.
JOB_TTL_SECONDS = 86400
# Probes of a service: startup allows as long as the progress deadline (a
# model loading), liveness restarts a server that stopped answering for 2 min.
PROBE_PERIOD = 10
LIVENESS_FAILURES = 12


def _metadata(
    name: str, object_labels: dict[str, str], options: PodOptions | None = None
) -> client.V1ObjectMeta:
    # No namespace here: it comes from `kubectl -n` or kustomization.yaml, so
    # the same manifests can be applied to another namespace.
    if options is None:
        return client.V1ObjectMeta(name=name, labels=object_labels)
    return client.V1ObjectMeta(
        name=name,
        labels=pod_policy.object_labels(options, object_labels),
        annotations=pod_policy.annotations(options),
    )


def _failure_policy(indexed: bool) -> client.V1PodFailurePolicy:
    """Evictions and preemptions (the DisruptionTarget condition) are not the
    command's fault and use no retry; exit 127 (no bash in the image) fails
    at once, as retrying cannot help."""
    hopeless = client.V1PodFailurePolicyOnExitCodesRequirement(
        container_name=pods.MAIN_CONTAINER, operator="In", values=[127]
    )
    disrupted = client.V1PodFailurePolicyOnPodConditionsPattern(type="DisruptionTarget", status="True")
    return client.V1PodFailurePolicy(
        rules=[
            client.V1PodFailurePolicyRule(action="Ignore", on_pod_conditions=[disrupted]),
            client.V1PodFailurePolicyRule(action="FailIndex" if indexed else "FailJob", on_exit_codes=hopeless),
        ]
    )


def _calls_services(unit: StageInstance | Service) -> bool:
    return any(port.service is not None for port in unit.inputs)


def _cached(experiment: Experiment, plan: Plan, site: Site) -> bool:
    """The result cache's copy reaches the site's work volume."""
    from compiler.backends import shipping  # it imports the transfers, which import this package

    return site in shipping.caching_sites(experiment, plan)


def job(experiment: Experiment, plan: Plan, site: Site, claim: str, workload: JobWorkload) -> client.V1Job:
    first = workload.instances[0]  # members share the pod shape (see workloads)
    varying = set(varying_literal_env(workload))
    shared_env = {name: value for name, value in first.env.items() if name not in varying}
    object_labels = labels.object_labels(
        experiment.name, name=workload.stage.name, instance=workload.name, component="stage", stage=workload.stage.name
    )
    container = client.V1Container(
        name=pods.MAIN_CONTAINER,
        image=pods.container_image(site, first.image),
        command=SHELL,
        # Every `$` doubled: the kubelet expands `$(VAR)` and `$$` in args, and
        # the script (user commands and values among it) must reach sh as written.
        args=[pods.command_literal(job_script(experiment, plan, workload, cached=_cached(experiment, plan, site)))],
        working_dir=pods.WORK_MOUNT,
        env=pods.with_run_env(pods.env_vars(experiment, shared_env, first.span),
                              calls_services=any(_calls_services(i) for i in workload.instances)),
        resources=pods.resource_requirements(first.resources),
        volume_mounts=[pods.work_mount(experiment)],
    )
    pod = client.V1PodSpec(
        containers=[container],
        restart_policy="Never",  # a failure is a new pod (logs kept), counted by the backoff limits
        active_deadline_seconds=pods.wall_time(first.resources),
        image_pull_secrets=pods.pull_secrets(site),
        volumes=[pods.work_volume(claim)],
        node_selector=pods.node_selector(workload.pool),
        tolerations=pods.tolerations(workload.pool),
    )
    template = pod_policy.pod_template(pod, object_labels, site, workload.pool)
    options = pod_policy.pod_options(site, workload.pool)
    if multinode.is_gang(workload):
        spec = multinode.job_spec(template, workload)
        spec.pod_failure_policy = _failure_policy(indexed=False)  # the gang retries as a whole
        spec.ttl_seconds_after_finished = JOB_TTL_SECONDS
    elif workload.indexed:
        count = len(workload.instances)
        # Retries per member, as in a Slurm array: one member's failures use
        # up only its own retries and never stop the others. backoffLimit is
        # left out, so the API makes it unlimited.
        spec = client.V1JobSpec(
            template=template,
            completion_mode="Indexed",
            completions=count,
            parallelism=count,
            backoff_limit_per_index=first.retries,
            pod_failure_policy=_failure_policy(indexed=True),
            ttl_seconds_after_finished=JOB_TTL_SECONDS,
        )
    else:
        spec = client.V1JobSpec(
            template=template,
            backoff_limit=first.retries,
            pod_failure_policy=_failure_policy(indexed=False),
            ttl_seconds_after_finished=JOB_TTL_SECONDS,
        )
    metadata = _metadata(workload.name, object_labels, options)
    return client.V1Job(api_version="batch/v1", kind="Job", metadata=metadata, spec=spec)


def _service_labels(experiment: Experiment, workload: ServiceWorkload) -> dict[str, str]:
    return labels.object_labels(
        experiment.name,
        name=workload.service.name,
        instance=workload.name,
        component="service",
        service=workload.service.name,
    )


def _probe(workload: ServiceWorkload, **timing: int) -> client.V1Probe:
    """HTTP GET on the health path when there is one; else the port must
    accept connections."""
    service = workload.service
    if service.http_health is not None:
        return client.V1Probe(http_get=client.V1HTTPGetAction(path=service.http_health, port=service.port), **timing)
    return client.V1Probe(tcp_socket=client.V1TCPSocketAction(port=service.port), **timing)


def readiness_probe(workload: ServiceWorkload) -> client.V1Probe:
    return _probe(workload)


def startup_probe(workload: ServiceWorkload) -> client.V1Probe:
    """Holds off liveness while the server starts (loads a model), for as
    long as the Deployment's progress deadline."""
    return _probe(
        workload, period_seconds=PROBE_PERIOD, failure_threshold=SERVICE_PROGRESS_DEADLINE // PROBE_PERIOD
    )


def liveness_probe(workload: ServiceWorkload) -> client.V1Probe:
    """Restarts a server that stopped answering for two minutes."""
    return _probe(workload, period_seconds=PROBE_PERIOD, failure_threshold=LIVENESS_FAILURES)


def deployment(
    experiment: Experiment, plan: Plan, site: Site, claim: str, workload: ServiceWorkload
) -> client.V1Deployment:
    service = workload.service
    object_labels = _service_labels(experiment, workload)
    script = service_script(experiment, plan, service.name)
    container = client.V1Container(
        name=pods.MAIN_CONTAINER,
        image=pods.container_image(site, service.image),
        command=SHELL if script is not None else None,
        args=[pods.command_literal(script)] if script is not None else None,
        working_dir=pods.WORK_MOUNT,
        env=pods.with_run_env(pods.env_vars(experiment, service.env, service.span),
                              calls_services=_calls_services(service)),
        resources=pods.resource_requirements(service.resources),
        ports=[client.V1ContainerPort(container_port=service.port, name="serve")],
        readiness_probe=readiness_probe(workload),
        startup_probe=startup_probe(workload),
        liveness_probe=liveness_probe(workload),
        volume_mounts=[pods.work_mount(experiment)],
    )
    pod = client.V1PodSpec(
        containers=[container],
        image_pull_secrets=pods.pull_secrets(site),
        volumes=[pods.work_volume(claim)],
        node_selector=pods.node_selector(workload.pool),
        tolerations=pods.tolerations(workload.pool),
    )
    spec = client.V1DeploymentSpec(
        replicas=service.replicas,
        selector=client.V1LabelSelector(match_labels=labels.pod_selector(workload.name)),
        template=pod_policy.pod_template(pod, object_labels, site, workload.pool),
        progress_deadline_seconds=SERVICE_PROGRESS_DEADLINE,
    )
    metadata = _metadata(workload.name, object_labels, pod_policy.pod_options(site, workload.pool))
    return client.V1Deployment(api_version="apps/v1", kind="Deployment", metadata=metadata, spec=spec)


def service(experiment: Experiment, workload: ServiceWorkload) -> client.V1Service:
    port = client.V1ServicePort(name="serve", port=workload.service.port, target_port="serve", protocol="TCP")
    spec = client.V1ServiceSpec(selector=labels.pod_selector(workload.name), ports=[port], type="ClusterIP")
    metadata = _metadata(workload.name, _service_labels(experiment, workload))
    return client.V1Service(api_version="v1", kind="Service", metadata=metadata, spec=spec)


def namespace(name: str) -> client.V1Namespace:
    # Only managed-by: the namespace may be shared, and `down.sh` selects by
    # part-of, so it can never delete the namespace.
    return client.V1Namespace(
        api_version="v1",
        kind="Namespace",
        metadata=client.V1ObjectMeta(name=name, labels={"app.kubernetes.io/managed-by": labels.MANAGED_BY}),
    )


def work_claim(experiment: Experiment, site: Site, name: str, size: int) -> client.V1PersistentVolumeClaim:
    """ReadWriteMany by default, because jobs on several nodes mount it at
    once; the site's storage_class and access_mode choose otherwise (a
    ReadWriteOnce volume then ties every pod of the site to one node)."""
    settings = site.kubernetes
    assert settings is not None
    object_labels = labels.object_labels(experiment.name, name="work", instance=name, component="work-volume")
    spec = client.V1PersistentVolumeClaimSpec(
        access_modes=[settings.access_mode],
        storage_class_name=settings.storage_class,
        resources=client.V1VolumeResourceRequirements(requests={"storage": pods.memory_quantity(size)}),
    )
    return client.V1PersistentVolumeClaim(
        api_version="v1", kind="PersistentVolumeClaim", metadata=_metadata(name, object_labels), spec=spec
    )


def data_mover(experiment: Experiment, site: Site, claim: str) -> client.V1Deployment:
    """A pod that only sleeps with the work volume mounted, so that transfers
    can `tar` into and out of /work through `kubectl exec`."""
    name = k8s_data_mover(experiment.name)
    object_labels = labels.object_labels(experiment.name, name="data-mover", instance=name, component="data-mover")
    amounts = {"cpu": "100m", "memory": "128Mi"}
    container = client.V1Container(
        name=pods.MAIN_CONTAINER,
        image=pods.container_image(site, None),
        command=["sleep", "infinity"],
        working_dir=pods.WORK_MOUNT,
        env=pods.with_run_env(None),
        resources=client.V1ResourceRequirements(requests=amounts, limits={"cpu": "1", "memory": "512Mi"}),
        volume_mounts=[pods.work_mount(experiment)],
    )
    pod = client.V1PodSpec(
        containers=[container],
        image_pull_secrets=pods.pull_secrets(site),
        volumes=[pods.work_volume(claim)],
        termination_grace_period_seconds=5,  # `sleep` as PID 1 ignores SIGTERM
    )
    spec = client.V1DeploymentSpec(
        replicas=1,
        selector=client.V1LabelSelector(match_labels=labels.pod_selector(name)),
        template=pod_policy.pod_template(pod, object_labels, site, None),
    )
    metadata = _metadata(name, object_labels, pod_policy.pod_options(site, None))
    return client.V1Deployment(api_version="apps/v1", kind="Deployment", metadata=metadata, spec=spec)
