"""The results of finished steps on a Kubernetes site are checked with one
short Job per site and run (backends/kubernetes/check.py, through
SiteKind.results_query): here against the kubectl stand-in, whose `logs`
runs the check Job's own command over a fake work tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compiler.frontend import load
from compiler.runner import jobs, results
from tests.conftest import ROOT

FAKE_KUBECTL = ROOT / "tests" / "backends" / "kubernetes" / "fake_kubectl.py"


@pytest.fixture
def compiled(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", "examples/rtmdet.mlx", "-o", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return out / "rtmdet"


def _kubectl(tmp_path: Path, monkeypatch, text: str | None = None) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(text or f"#!{sys.executable} -SE\n" + FAKE_KUBECTL.read_text())
    kubectl.chmod(0o755)
    log = tmp_path / "kubectl.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_KUBECTL_LOG", str(log))
    monkeypatch.setenv("MLC_RUN", "r1")
    return log


def _on_cluster(folder: Path) -> dict[str, dict]:
    config = jobs.site_config(folder)
    return {rule: entry for rule, entry in results.index(folder).items()
            if config[entry["site"]]["kind"] == "kubernetes" and entry["outputs"]}


def _all_done(folder: Path) -> None:
    """The Kubernetes site's steps finished (the others' sites are not asked)."""
    (folder / ".mlc/done").mkdir(parents=True)
    for rule in _on_cluster(folder):
        (folder / ".mlc/done" / rule).touch()


def test_a_gone_kubernetes_result_makes_its_step_run_again(compiled, tmp_path, monkeypatch):
    log = _kubectl(tmp_path, monkeypatch)
    tree = tmp_path / "volume" / "rtmdet" / "r1"
    monkeypatch.setenv("FAKE_WORK_TREE", str(tree))
    experiment, _, _ = load(str(ROOT / "examples/rtmdet.mlx"))
    on_cluster = _on_cluster(compiled)
    assert on_cluster
    _all_done(compiled)
    for entry in on_cluster.values():
        for path in entry["outputs"]:
            (tree / path).parent.mkdir(parents=True, exist_ok=True)
            (tree / path).write_text("result\n")

    # All there: nothing runs again, and the site was asked with one Job.
    lost, problems = results.forget_lost(experiment, compiled)
    assert problems == []
    assert not set(lost) & set(on_cluster)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    applied = [call for call in calls if "apply" in call]
    assert len(applied) == 1 and applied[0][-1] == "app.kubernetes.io/instance=rtmdet-check"
    assert calls[1][4:7] == calls[-1][4:7] == ["delete", "job", "rtmdet-check-r1"]  # before and after

    gone_rule = sorted(on_cluster)[0]
    gone = on_cluster[gone_rule]["outputs"][0]
    site = on_cluster[gone_rule]["site"]
    (tree / gone).unlink()
    lost, problems = results.forget_lost(experiment, compiled)
    assert problems == []
    assert lost[gone_rule] == [f"{site}:{gone}"]
    assert not jobs.done(compiled, gone_rule)


def test_a_cluster_that_cannot_be_asked_keeps_the_flags_with_a_warning(compiled, tmp_path, monkeypatch):
    _kubectl(tmp_path, monkeypatch, "#!/bin/sh\necho 'error: You must be logged in to the server (Unauthorized)' >&2\n"
                                     "exit 1\n")
    experiment, _, _ = load(str(ROOT / "examples/rtmdet.mlx"))
    on_cluster = _on_cluster(compiled)
    _all_done(compiled)
    lost, problems = results.forget_lost(experiment, compiled)
    site = next(iter(on_cluster.values()))["site"]
    assert [p for p in problems if f"site {site} " in p] == \
        [f"results on site {site} not checked: error: You must be logged in to the server (Unauthorized)"]
    assert all(jobs.done(compiled, rule) for rule in on_cluster)


def test_the_check_passes_the_site_settings_and_answers_in_the_callers_order(compiled, tmp_path, monkeypatch):
    """check.sh maps the Job's indices onto its own arguments: a subset, in
    another order, of what the Job stats."""
    from compiler.runner import remote_results

    log = _kubectl(tmp_path, monkeypatch)
    tree = tmp_path / "volume"
    monkeypatch.setenv("FAKE_WORK_TREE", str(tree))
    site, entry = next((e["site"], e) for e in _on_cluster(compiled).values())
    path = entry["outputs"][0]
    (tree / path).parent.mkdir(parents=True, exist_ok=True)
    (tree / path).write_text("12345\n")
    config = yaml.safe_load((compiled / "config.yaml").read_text())
    config["sites"][site].update(context="ctx one", namespace="other-ns")
    (compiled / "config.yaml").write_text(yaml.safe_dump(config))
    settings = jobs.site_config(compiled)[site]
    found = remote_results.existing("kubernetes", settings, "rtmdet", ["not/a result", path], compiled, site)
    assert set(found) == {path} and found[path].size == 6
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(call[:4] == ["--context", "ctx one", "-n", "other-ns"] for call in calls)


def test_no_work_volume_means_no_results_and_no_job(compiled, tmp_path, monkeypatch):
    """After `mlc down --volumes` the claim is gone: every result with it,
    and a check Job would wait for the volume in vain."""
    log = _kubectl(tmp_path, monkeypatch)
    monkeypatch.setenv("FAKE_CLAIM", "missing")
    experiment, _, _ = load(str(ROOT / "examples/rtmdet.mlx"))
    on_cluster = _on_cluster(compiled)
    _all_done(compiled)
    lost, problems = results.forget_lost(experiment, compiled)
    assert problems == []
    assert set(lost) == set(on_cluster)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [call[4:7] for call in calls] == [["get", "persistentvolumeclaim", "mlops-work"]]  # a claim the site names


def test_the_check_job_gives_up_before_the_runner_kills_the_script():
    """check.sh must time out and delete its Job itself: killed by the
    runner's limit, it would leave the Job (and kubectl) behind."""
    from compiler.backends.kubernetes import check
    from compiler.runner import remote_results

    assert check.WAIT.endswith("s") and int(check.WAIT[:-1]) + 20 < remote_results.TIMEOUT
