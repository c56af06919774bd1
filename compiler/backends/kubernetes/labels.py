"""Labels on every generated object: the recommended `app.kubernetes.io/*`
set plus mlc's own, so that `down.sh` can select exactly what one experiment
deployed and nothing else."""

from __future__ import annotations

from typing import Literal

from compiler.backends.naming import dns1123

MANAGED_BY = "mlc"
# The run identity (docs/kubernetes.md "Run identity"): not in the generated
# manifests; the run scripts add it, with a name suffix, through kustomize.
RUN_LABEL = "mlc.dev/run"

Component = Literal["stage", "service", "data-mover", "work-volume", "transfer", "check"]


def label_value(text: str) -> str:
    """Label values allow at most 63 characters from a small alphabet; a
    DNS-1123 label is a safe subset, and `dns1123` keeps distinct texts distinct."""
    return dns1123(text)


def part_of(experiment: str) -> dict[str, str]:
    """The labels shared by everything one experiment deploys."""
    return {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": label_value(experiment),
        "mlc.dev/experiment": label_value(experiment),
    }


def experiment_selector(experiment: str) -> str:
    """The `-l` selector matching everything the experiment deployed."""
    return (
        f"app.kubernetes.io/part-of={label_value(experiment)},"
        f"app.kubernetes.io/managed-by={MANAGED_BY}"
    )


def object_labels(
    experiment: str,
    *,
    name: str,
    instance: str,
    component: Component,
    stage: str | None = None,
    service: str | None = None,
) -> dict[str, str]:
    """Labels of one object: `name` is what it runs (a stage or service),
    `instance` the object's own name, unique within the namespace."""
    labels = part_of(experiment)
    labels["app.kubernetes.io/name"] = label_value(name)
    labels["app.kubernetes.io/instance"] = instance
    labels["app.kubernetes.io/component"] = component
    if stage is not None:
        labels["mlc.dev/stage"] = label_value(stage)
    if service is not None:
        labels["mlc.dev/service"] = label_value(service)
    return dict(sorted(labels.items()))


def pod_selector(instance: str) -> dict[str, str]:
    """The immutable selector of a Deployment or Service: the object's own
    name is unique in the namespace and never changes between compilations."""
    return {"app.kubernetes.io/instance": instance, "app.kubernetes.io/managed-by": MANAGED_BY}
