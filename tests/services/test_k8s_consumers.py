"""A service on a Kubernetes site with one consumer on the same site
(cluster DNS) and one on another site (the site's declared exposure: an
Ingress is generated): the generated folder byte for byte against
tests/services/golden/k8s_consumers/ (MLC_UPDATE_GOLDEN=1 to accept a
change, then read the diff), every manifest valid under strict schema
validation, and every consumer script waiting for readiness."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml
from kubernetes_validate import validate
from kubernetes_validate.utils import all_versions
from packaging.version import Version

from compiler.backends import emit
from compiler.diagnostics import render_text
from compiler.frontend import load
from compiler.placement import place

GOLDEN = Path(__file__).parent / "golden" / "k8s_consumers"
VERSIONS = sorted({v for v in all_versions() if Version(v) >= Version("1.29")}, key=Version)
_PICTURES = {"gantt.svg", "graph.svg", "graph.mmd"}

SOURCE = """
experiment shop { description = "a detector on Kubernetes, tested from both sites" }
site cloud : kubernetes {
  context = "ctx"; namespace = "ml"; volume = "work"; expose = "apps.example.org"
  pool cpu { nodes = 2; cpus = 8; memory = 32GiB; price = 0.2/h }
}
site ws : local { cpus = 4; memory = 8GiB }
service detector {
  image = "registry.example.org/detector:1"
  port = 8080
  health = "/healthz"
  on = cloud
}
stage near {
  in api = detector
  out report = file("near.json")
  estimate = 5m
  on = cloud
  run = "python3 probe.py ${in.api} > ${out.report}"
}
stage far {
  in api = detector
  out report = file("far.json")
  estimate = 5m
  on = ws
  run = "python3 probe.py ${in.api} > ${out.report}"
}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("k8s") / "shop.mlx"
    path.write_text(textwrap.dedent(SOURCE))
    experiment, diags, sources = load(str(path))
    assert experiment is not None, render_text(diags.sorted(), sources)
    return {p: t for p, t in emit(experiment, place(experiment)).items() if p not in _PICTURES}


def test_the_folder_matches_the_golden(files):
    if os.environ.get("MLC_UPDATE_GOLDEN") == "1":
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for path, text in files.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_text(text, encoding="utf-8")
    expected = {str(p.relative_to(GOLDEN)): p.read_text(encoding="utf-8")
                for p in sorted(GOLDEN.rglob("*")) if p.is_file()}
    assert sorted(files) == sorted(expected), "files added or removed (MLC_UPDATE_GOLDEN=1 to accept)"
    for path in sorted(files):
        assert files[path] == expected[path], f"{path} differs (MLC_UPDATE_GOLDEN=1 to accept)"


def test_every_manifest_validates_strictly_on_the_oldest_and_newest_version(files):
    objects = [yaml.safe_load(text) for path, text in files.items()
               if path.startswith("k8s/") and path.endswith(".yaml") and not path.endswith("kustomization.yaml")]
    assert any(o["kind"] == "Ingress" for o in objects)
    for obj in objects:
        for version in (VERSIONS[0], VERSIONS[-1]):
            validate(obj, version, strict=True)


def test_the_same_site_consumer_uses_cluster_dns_and_the_other_the_exposure(files):
    near = files["k8s/cloud/shop-near-job.yaml"]
    # The Service's applied name carries the run (MLC_RUN in the pod).
    assert """mlc_wait_ready MLC_IN_api http://shop-detector"-${MLC_RUN:?}".ml.svc:8080 '' /healthz""" in near
    far = files["local/ws/far.sh"]
    assert "mlc_wait_ready MLC_IN_api http://shop-detector.apps.example.org '' /healthz" in far
    ingress = yaml.safe_load(files["k8s/cloud/shop-detector-ingress.yaml"])
    assert ingress["spec"]["rules"][0]["host"] == "shop-detector.apps.example.org"
    # Applied with the Deployment and Service: one instance label selects all three.
    assert ingress["metadata"]["labels"]["app.kubernetes.io/instance"] == "shop-detector"
    assert "apply_run app.kubernetes.io/instance=shop-detector " in files["k8s/cloud/run-detector.sh"]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_scripts_are_shellcheck_clean(files):
    for path, text in files.items():
        if path.endswith(".sh"):
            result = subprocess.run(["shellcheck", "-s", "bash", "-"], input=text, capture_output=True, text=True)
            assert result.returncode == 0, f"{path}:\n{result.stdout}"


def test_the_workflow_removes_the_service_after_both_consumers(files):
    snakefile = files["Snakefile"]
    stop = snakefile[snakefile.index("rule stop_detector:"):]
    for flag in ('".mlc/done/detector"', '".mlc/done/far"', '".mlc/done/near"', "k8s/cloud/stop-shop-detector.sh"):
        assert flag in stop
    script = files["k8s/cloud/stop-shop-detector.sh"]
    # By labels: the applied names carry the run's suffix; only this run's objects go.
    assert ('delete deployments,services,ingresses -l app.kubernetes.io/instance=shop-detector,mlc.dev/run="$run" '
            "--ignore-not-found") in script
