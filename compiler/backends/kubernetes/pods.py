"""Pieces of a pod spec built from the IR: resources, environment, scheduling
on a pool, the work volume, the image. Each returns `kubernetes.client`
models, so field names and types are checked by the client, not by hand."""

from __future__ import annotations

import math
import re

from compiler.backends.errors import BackendError
from compiler.backends.kubernetes import labels
from compiler.ir import EnvValue, Experiment, LiteralEnv, Pool, Resources, Site, Span
from compiler.lazy import lazy_module

# The client (~0.2 s to import) only when a Kubernetes site is compiled.
client = lazy_module("kubernetes.client")

WORK_MOUNT = "/work"  # every container sees its site's work tree here
WORK_VOLUME = "work"  # the pod-level name of the volume holding it
MAIN_CONTAINER = "main"

_BINARY_UNITS = (("Ti", 1024**4), ("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024))


def memory_quantity(size: int) -> str:
    """Bytes as a Kubernetes quantity, in the largest binary unit that divides
    it exactly (`16Gi`), else plain bytes: never rounded."""
    for suffix, factor in _BINARY_UNITS:
        if size >= factor and size % factor == 0:
            return f"{size // factor}{suffix}"
    return str(size)


def resource_requirements(resources: Resources) -> client.V1ResourceRequirements:
    """Requests equal to limits: the pod gets the Guaranteed QoS class, so a
    run time estimated for the pool is not spoiled by a noisy neighbour."""
    amounts = {"cpu": str(resources.cpus), "memory": memory_quantity(resources.memory)}
    if resources.gpus is not None and resources.gpus.count > 0:
        amounts["nvidia.com/gpu"] = str(resources.gpus.count)
    return client.V1ResourceRequirements(requests=dict(amounts), limits=dict(amounts))


def wall_time(resources: Resources) -> int:
    """The pod's activeDeadlineSeconds: the wall-time limit, whole seconds."""
    return max(1, math.ceil(resources.time))


def parse_toleration(text: str, span: Span) -> client.V1Toleration:
    """`key=value:Effect` tolerates that taint; `key:Effect` any value of it."""
    taint, colon, effect = text.rpartition(":")
    if not colon or not taint or not effect:
        raise BackendError(f"toleration {text!r} is not `key=value:Effect` or `key:Effect`", span)
    key, equals, value = taint.partition("=")
    if equals:
        return client.V1Toleration(key=key, operator="Equal", value=value, effect=effect)
    return client.V1Toleration(key=key, operator="Exists", effect=effect)


def node_selector(pool: Pool) -> dict[str, str] | None:
    return dict(sorted(pool.selector.items())) or None


def tolerations(pool: Pool) -> list[client.V1Toleration] | None:
    """Pools of tainted nodes (GPU nodes, often) list the taints to tolerate."""
    return [parse_toleration(text, pool.span) for text in pool.tolerations] or None


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def env_name(name: str, span: Span) -> str:
    """Environment names also reach `export NAME=...` in pod scripts, so only
    shell identifiers pass."""
    if not _ENV_NAME.fullmatch(name):
        raise BackendError(f"environment variable name {name!r} is not a shell identifier", span)
    return name


def env_var(experiment: Experiment, name: str, value: EnvValue, span: Span) -> client.V1EnvVar:
    """A literal value, or a reference to a Kubernetes Secret: secrets are
    never read by the compiler, the kubelet resolves the reference."""
    env_name(name, span)
    if isinstance(value, LiteralEnv):
        # The kubelet expands `$(VAR)` in a value too: doubled, it gives the value back as written.
        return client.V1EnvVar(name=name, value=command_literal(value.value))
    secret = next((s for s in experiment.secrets if s.name == value.secret), None)
    if secret is None or secret.kubernetes is None:
        raise BackendError(
            f"environment variable {name} uses secret `{value.secret}`, "
            "which has no `kubernetes = \"<Secret name>/<key>\"` reference",
            span,
        )
    secret_name, key = secret.kubernetes
    selector = client.V1SecretKeySelector(name=secret_name, key=key)
    return client.V1EnvVar(name=name, value_from=client.V1EnvVarSource(secret_key_ref=selector))


def env_vars(experiment: Experiment, env: dict[str, EnvValue], span: Span) -> list[client.V1EnvVar] | None:
    return [env_var(experiment, name, env[name], span) for name in sorted(env)] or None


def container_image(site: Site, image: str | None) -> str:
    """The unit's image without apptainer's `docker://` scheme, else the
    site's default image."""
    settings = site.kubernetes
    assert settings is not None, "only Kubernetes sites reach this back end"
    if image is None:
        return settings.default_image
    return image.removeprefix("docker://")


def work_volume(claim: str) -> client.V1Volume:
    source = client.V1PersistentVolumeClaimVolumeSource(claim_name=claim)
    return client.V1Volume(name=WORK_VOLUME, persistent_volume_claim=source)


def command_literal(text: str) -> str:
    """`text` in a container's command, where the kubelet expands `$(VAR)`."""
    return text.replace("$", "$$")


RUN_ENV = "MLC_RUN"  # the run identity inside a pod (docs/kubernetes.md "Run identity")


NAMESPACE_ENV = "MLC_NAMESPACE"  # where a pod that calls services was applied (KUBE_NAMESPACE at run time)


def with_run_env(env: list[client.V1EnvVar] | None, *, calls_services: bool = False) -> list[client.V1EnvVar]:
    """`env` plus MLC_RUN, read from the pod's `mlc.dev/run` label, which the
    run scripts set at apply time: the manifests themselves name no run. A
    pod that calls services also gets MLC_NAMESPACE, its own namespace (the
    scripts may apply to another than the compiled one), for their addresses."""
    field = client.V1ObjectFieldSelector(field_path=f"metadata.labels['{labels.RUN_LABEL}']")
    added = [client.V1EnvVar(name=RUN_ENV, value_from=client.V1EnvVarSource(field_ref=field))]
    if calls_services:
        own = client.V1ObjectFieldSelector(field_path="metadata.namespace")
        added.append(client.V1EnvVar(name=NAMESPACE_ENV, value_from=client.V1EnvVarSource(field_ref=own)))
    return sorted([*(env or []), *added], key=lambda e: e.name)


def work_mount(experiment: Experiment) -> client.V1VolumeMount:
    """The run's own directory of the experiment's directory of the (possibly
    shared) claim: two runs of one experiment never write the same files.
    Every container mounting it has MLC_RUN (`with_run_env`)."""
    return client.V1VolumeMount(
        name=WORK_VOLUME, mount_path=WORK_MOUNT, sub_path_expr=f"{experiment.name}/$({RUN_ENV})"
    )


def pull_secrets(site: Site) -> list[client.V1LocalObjectReference] | None:
    settings = site.kubernetes
    assert settings is not None
    return [client.V1LocalObjectReference(name=name) for name in settings.image_pull_secrets] or None
