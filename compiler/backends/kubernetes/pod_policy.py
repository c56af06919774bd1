"""The one place every pod template goes through (`pod_template`): Pod
Security settings, the writable scratch a hardened pod needs, shared memory
for GPU pods, and the platform team's pod options from the site and pool.
A new workload kind builds its bare pod spec and calls `pod_template`, so it
is hardened like the others (docs/kubernetes.md "Production clusters")."""

from __future__ import annotations

import re

from compiler.backends.errors import BackendError
from compiler.ir import PodOptions, Pool, Site, Span
from compiler.lazy import lazy_module

# The client (~0.2 s to import) only when a Kubernetes site is compiled.
client = lazy_module("kubernetes.client")

# A fixed non-root identity: "restricted" needs runAsNonRoot, and the kubelet
# refuses an image whose USER is root unless runAsUser says otherwise. Above
# 10000, so it is no user of the node's either; group and fsGroup match, so
# files on the work volume stay shared between pods.
RUN_AS = 10001
SCRATCH = "/tmp"  # writable in every pod; HOME points here (caches, config)
SHM = "/dev/shm"  # memory-backed for GPU pods: DataLoader workers and NCCL


_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_KEY_NAME = re.compile(r"(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_LABEL_VALUE = re.compile(r"(?=.{0,63}$)([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")


def _valid_key(key: str) -> bool:
    """`[prefix/]name`: a DNS subdomain prefix, a name of 63 characters."""
    prefix, slash, name = key.rpartition("/")
    return bool(_KEY_NAME.fullmatch(name)) and (not slash or bool(_NAME.fullmatch(prefix)))


def check_options(options: PodOptions, span: Span) -> None:
    """Names of cluster objects and label/annotation keys the API would
    reject, reported at the site or pool that states them."""
    for what, name in (("service account", options.service_account), ("priority class", options.priority_class),
                       ("runtime class", options.runtime_class)):
        if name is not None and not _NAME.fullmatch(name):
            raise BackendError(f"{what} {name!r} is not a valid Kubernetes object name", span)
    for what, mapping in (("label", options.labels), ("annotation", options.annotations)):
        for key, value in mapping.items():
            if not _valid_key(key):
                raise BackendError(f"{what} key {key!r} is not a valid Kubernetes key ([prefix/]name)", span)
            if what == "label" and not _LABEL_VALUE.fullmatch(value):
                raise BackendError(f"label {key}: value {value!r} is not a valid label value", span)


def pod_options(site: Site, pool: Pool | None) -> PodOptions:
    """The site's pod options with the pool's on top; labels and annotations
    are merged key by key, the pool winning."""
    settings = site.kubernetes
    assert settings is not None
    base = settings.pod
    if pool is None:
        return base
    over = pool.pod
    return PodOptions(
        service_account=over.service_account or base.service_account,
        priority_class=over.priority_class or base.priority_class,
        runtime_class=over.runtime_class or base.runtime_class,
        labels={**base.labels, **over.labels},
        annotations={**base.annotations, **over.annotations},
    )


def object_labels(options: PodOptions, own: dict[str, str]) -> dict[str, str]:
    """The platform's labels (a Kueue queue name, a cost centre) with mlc's
    own on top: mlc's select pods and objects, so they are never overridden."""
    return dict(sorted({**options.labels, **own}.items()))


def annotations(options: PodOptions) -> dict[str, str] | None:
    return dict(sorted(options.annotations.items())) or None


def _restricted(site: Site) -> bool:
    settings = site.kubernetes
    assert settings is not None
    return settings.pod_security == "restricted"


def _pod_security(site: Site) -> client.V1PodSecurityContext:
    seccomp = client.V1SeccompProfile(type="RuntimeDefault")
    if not _restricted(site):  # "baseline": the image's own user, root included
        return client.V1PodSecurityContext(seccomp_profile=seccomp)
    return client.V1PodSecurityContext(
        run_as_non_root=True, run_as_user=RUN_AS, run_as_group=RUN_AS, fs_group=RUN_AS, seccomp_profile=seccomp
    )


def _container_security(site: Site) -> client.V1SecurityContext:
    if not _restricted(site):
        return client.V1SecurityContext(allow_privilege_escalation=False)
    return client.V1SecurityContext(
        allow_privilege_escalation=False, capabilities=client.V1Capabilities(drop=["ALL"])
    )


def _wants_shm(container: client.V1Container) -> bool:
    limits = (container.resources.limits if container.resources else None) or {}
    return "nvidia.com/gpu" in limits


def pod_template(
    spec: client.V1PodSpec, own_labels: dict[str, str], site: Site, pool: Pool | None
) -> client.V1PodTemplateSpec:
    """`spec` hardened and extended, under metadata with mlc's labels (plus
    the platform's) and the platform's annotations."""
    options = pod_options(site, pool)
    volumes = list(spec.volumes or [])
    volumes.append(client.V1Volume(name="tmp", empty_dir=client.V1EmptyDirVolumeSource()))
    shm = any(_wants_shm(c) for c in spec.containers)
    if shm:  # counts against the container's memory limit, which bounds it
        volumes.append(client.V1Volume(name="dshm", empty_dir=client.V1EmptyDirVolumeSource(medium="Memory")))
    for container in spec.containers:
        mounts = list(container.volume_mounts or [])
        mounts.append(client.V1VolumeMount(name="tmp", mount_path=SCRATCH))
        if shm:
            mounts.append(client.V1VolumeMount(name="dshm", mount_path=SHM))
        container.volume_mounts = mounts
        container.security_context = _container_security(site)
        env = list(container.env or [])
        if _restricted(site) and not any(e.name == "HOME" for e in env):
            # RUN_AS has no home in the image; tools write ~/.cache.
            env.append(client.V1EnvVar(name="HOME", value=SCRATCH))
        container.env = sorted(env, key=lambda e: e.name) or None
    spec.volumes = volumes
    spec.security_context = _pod_security(site)
    spec.service_account_name = options.service_account
    # No API credentials in pods unless the site names an identity for them.
    spec.automount_service_account_token = None if options.service_account else False
    spec.priority_class_name = options.priority_class
    spec.runtime_class_name = options.runtime_class
    metadata = client.V1ObjectMeta(labels=object_labels(options, own_labels), annotations=annotations(options))
    return client.V1PodTemplateSpec(metadata=metadata, spec=spec)
