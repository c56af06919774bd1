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
    }


@pytest.fixture(scope="session")
def emitted() -> dict[str, dict[str, str]]:
    return variants()


@pytest.fixture(scope="session")
def rtmdet_files(emitted) -> dict[str, str]:
    return emitted["rtmdet"]


@pytest.fixture(scope="session")
def rtmdet_objects(rtmdet_files) -> dict[str, dict]:
    return manifests(rtmdet_files)
