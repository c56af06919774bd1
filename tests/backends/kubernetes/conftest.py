"""Fixtures of the Kubernetes back-end tests: emitted sites of the hand-built
rtmdet case study, and their manifests parsed back from YAML."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from kubernetes_validate.utils import all_versions
from packaging.version import Version

sys.path.insert(0, str(Path(__file__).parent))

import k8s_builders  # noqa: E402

from compiler.backends.kubernetes import emit_site  # noqa: E402

# Kubernetes versions whose API schemas the manifests must satisfy: 1.29 to
# the newest the installed kubernetes-validate carries.
VERSIONS = sorted({v for v in all_versions() if Version(v) >= Version("1.29")}, key=Version)


def manifests(files: dict[str, str]) -> dict[str, dict]:
    """The Kubernetes objects among the emitted files, parsed."""
    return {
        path: yaml.safe_load(text)
        for path, text in files.items()
        if path.endswith(".yaml") and not path.endswith(("kustomization.yaml", "kustomizeconfig.yaml"))
    }


# Outputs published from a stage in the cluster: rclone Jobs from the work
# volume to the URI (a file to s3://, a folder to gs://; user text in the URI),
# with the node's credentials.
PUBLISH_SOURCE = """
experiment published { description = "outputs published from the cluster" }
site cloud : kubernetes {
  namespace = "mlops"
  pool cpu { nodes = 1; cpus = 4; memory = 8GiB }
}
stage train for lr in [0.1, 0.01] {
  out model = file("models/${lr}.pt", publish = "s3://models/rtmdet/${lr}/it's $(id) `x`.pt")
  out curves = dir("curves/${lr}", publish = "gs://metrics/curves/${lr}")
  image = "docker://python:3.11-slim"
  run = "echo ${lr} > ${out.model} && mkdir -p ${out.curves} && echo x > ${out.curves}/f"
}
"""


def published():
    """The experiment and plan of PUBLISH_SOURCE, through the real front end."""
    from compiler import frontend, placement

    path = "published.mlx"  # read from memory, never from disk
    experiment, diags, _ = frontend.load(path, {}, lambda p: PUBLISH_SOURCE if p == path else None)
    assert experiment is not None, [d.message for d in diags.items]
    return experiment, placement.place(experiment)


def variants() -> dict[str, dict[str, str]]:
    """Emitted cloud sites covering the shapes the back end distinguishes."""
    named_volume = k8s_builders.rtmdet()
    own_volume = k8s_builders.rtmdet(
        train_on="split", cloud=k8s_builders.cloud_site(volume=None, context=None, image_pull_secrets=["regcred"],
                                                        staging=None, data_path="exec")
    )
    return {
        "rtmdet": emit_site(*named_volume, "cloud"),
        "rtmdet-split-own-volume": emit_site(*own_volume, "cloud"),
        "distributed": emit_site(*k8s_builders.distributed(), "cloud"),
        "rtmdet-fetch": emit_site(*k8s_builders.with_fetch(*named_volume), "cloud"),
        "publish": emit_site(*published(), "cloud"),
    }


@pytest.fixture(scope="session")
def emitted() -> dict[str, dict[str, str]]:
    return variants()


@pytest.fixture
def emit_variants():
    """variants itself, to emit under a test's own patches: a test module
    importing it from `conftest` may get another directory's conftest
    (tests/e2e's, once, under xdist)."""
    return variants


@pytest.fixture(scope="session")
def rtmdet_files(emitted) -> dict[str, str]:
    return emitted["rtmdet"]


@pytest.fixture(scope="session")
def rtmdet_objects(rtmdet_files) -> dict[str, dict]:
    return manifests(rtmdet_files)
