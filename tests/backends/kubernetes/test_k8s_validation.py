"""Every manifest validates in strict mode (unknown fields are errors) against
the API schemas of every Kubernetes minor version from 1.29 to the newest
that the installed kubernetes-validate carries; offline."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import VERSIONS, manifests
from kubernetes_validate import validate
from kubernetes_validate.utils import ValidationError


def test_the_validator_carries_several_versions():
    # Guards the parametrisation below against silently shrinking to nothing.
    assert len(VERSIONS) >= 5 and VERSIONS[0] == "1.29.0"


@pytest.mark.parametrize("version", VERSIONS)
def test_manifests_validate_strictly(emitted, version):
    for files in emitted.values():
        for path, obj in manifests(files).items():
            try:
                validate(obj, version, strict=True)
            except ValidationError as error:
                pytest.fail(f"{path} against {version}: {'.'.join(map(str, error.path))}: {error.message}")


def _broken(job: dict) -> list[dict]:
    misspelt = copy.deepcopy(job)
    misspelt["spec"]["template"]["spec"]["containers"][0]["workdir"] = "/work"  # not a field
    wrong_type = copy.deepcopy(job)
    wrong_type["spec"]["completions"] = "three"
    return [misspelt, wrong_type]


@pytest.mark.parametrize("version", [VERSIONS[0], VERSIONS[-1]])
def test_a_broken_manifest_fails_validation(rtmdet_objects, version):
    job = rtmdet_objects["k8s/cloud/rtmdet-train-job.yaml"]
    validate(job, version, strict=True)
    for broken in _broken(job):
        with pytest.raises(ValidationError):
            validate(broken, version, strict=True)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_builds_the_whole_site(emitted, tmp_path: Path):
    """`kubectl apply -k k8s/<site>` takes the whole site: kustomize (built
    into kubectl, offline) resolves every listed file and sets the namespace."""
    for variant, files in emitted.items():
        for path, text in files.items():
            target = tmp_path / variant / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        built = subprocess.run(
            ["kubectl", "kustomize", str(tmp_path / variant / "k8s" / "cloud")],
            capture_output=True, text=True, check=True,
        ).stdout
        objects = [obj for obj in yaml.safe_load_all(built) if obj]
        assert len(objects) == len(manifests(files))
        assert {obj["metadata"].get("namespace", "mlops") for obj in objects} == {"mlops"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_the_documented_overlay_builds_over_the_generated_site(tmp_path: Path):
    """docs/kubernetes.md's worked overlay example, over out/rtmdet's cloud
    folder, builds, and its patches and labels land."""
    docs = (Path(__file__).resolve().parents[3] / "docs" / "kubernetes.md").read_text()
    example = docs[docs.index("overlays/cloud/kustomization.yaml:\n") :].split("\n\n", 1)[1].split("```", 1)[0]
    out = Path(__file__).resolve().parents[3] / "out" / "rtmdet" / "k8s" / "cloud"
    site = tmp_path / "out" / "rtmdet" / "k8s" / "cloud"
    shutil.copytree(out, site)
    overlay = tmp_path / "overlays" / "cloud"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text(example)
    built = subprocess.run(["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=True).stdout
    objects = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(built) if o}
    assert all(o["metadata"]["labels"]["cost-centre"] == "vision" for o in objects.values())
    detector = objects[("Deployment", "rtmdet-detector")]
    assert detector["spec"]["template"]["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_builds_every_committed_site_folder():
    """out/ and the goldens, as committed: what a user applies with -k."""
    root = Path(__file__).resolve().parents[3]
    folders = [f for f in [*root.glob("out/*/k8s/*"), *(Path(__file__).parent / "golden").glob("*/k8s/*")]
               if (f / "kustomization.yaml").is_file()]
    assert len(folders) >= 4
    for folder in folders:
        built = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True)
        assert built.returncode == 0, f"{folder}: {built.stderr}"
        listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
        assert len([o for o in yaml.safe_load_all(built.stdout) if o]) == len(listed), folder
