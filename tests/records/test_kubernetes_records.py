"""A Kubernetes step's record, collected from the files its run script
leaves in the output folder (the pods' status it saves, as
tests/backends/kubernetes/test_k8s_scripts.py shows against the kubectl
stand-in): elapsed from the containers' timestamps, the node, restarts and
the image's digest; no CPU time or memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from compiler import frontend, placement
from compiler.records import collect

ROOT = Path(__file__).resolve().parents[2]
FAKE = ROOT / "tests" / "backends" / "kubernetes" / "fake_kubectl.py"


def _pod_list(tmp_path: Path, job: str, outcome: str) -> str:
    """What the stand-in kubectl answers the run script's pod query with, for a Job in state `outcome`."""
    env = {**os.environ, "FAKE_KUBECTL_LOG": str(tmp_path / "kubectl.log"), "FAKE_JOB_BEFORE": outcome}
    listed = subprocess.run([sys.executable, str(FAKE), "--context", "c", "-n", "ns", "get", "pods", "-l",
                             f"batch.kubernetes.io/job-name={job}", "-o", "json"], env=env, capture_output=True,
                            text=True, check=True)
    return listed.stdout


def test_a_kubernetes_step_is_recorded_from_its_pods(tmp_path):
    experiment, diagnostics, _ = frontend.load(str(ROOT / "examples" / "rtmdet.mlx"))
    assert experiment is not None, diagnostics
    plan = placement.place(experiment)
    assert plan.where("loadtest").site == "cloud"
    for folder in ("done", "steps", "usage"):
        (tmp_path / ".mlc" / folder).mkdir(parents=True)
    (tmp_path / ".mlc/steps/loadtest").write_text("started\n")
    (tmp_path / ".mlc/done/loadtest").touch()
    (tmp_path / ".mlc/usage/loadtest.pods.json").write_text(_pod_list(tmp_path, "rtmdet-loadtest-alice", "Complete"))
    (step,) = collect.steps(experiment, plan, tmp_path, "r1", {"loadtest"})
    assert (step.kind, step.state, step.exit_status, step.job_id) == ("kubernetes", "COMPLETED", 0,
                                                                      "rtmdet-loadtest-alice")
    assert (step.elapsed_s, step.queue_wait_s, step.restarts) == (180.0, 7.0, 0)
    assert json.loads(step.nodes) == ["gpu-node-1"] and step.image_id.startswith("registry.example/rtmdet@sha256:")
    assert step.cpu_time_s is None and step.max_rss_bytes is None  # the pod status has none
    assert step.image == "docker://python:3.11-slim"  # what was asked, beside what ran


def test_a_kubernetes_step_nobody_watched_is_found_once(tmp_path):
    experiment, _, _ = frontend.load(str(ROOT / "examples" / "rtmdet.mlx"))
    (tmp_path / "Snakefile").write_text("# loadtest on Kubernetes site cloud\nrule loadtest:\n")
    for folder in ("done", "usage"):
        (tmp_path / ".mlc" / folder).mkdir(parents=True)
    (tmp_path / ".mlc/done/loadtest").touch()
    (tmp_path / ".mlc/usage/loadtest.pods.json").write_text(_pod_list(tmp_path, "rtmdet-loadtest-alice", "Complete"))
    assert collect.unwatched(tmp_path, []) == {"loadtest"}
    recorded = collect.steps(experiment, placement.place(experiment), tmp_path, "r1", {"loadtest"})
    assert collect.unwatched(tmp_path, recorded) == set()
