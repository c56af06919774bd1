"""A multi-node stage on Kubernetes: an Indexed Job with one pod per node, a
headless Service naming the pods, the rank from the completion index and
the master at pod 0 (docs/kubernetes.md, "Multi-node stages")."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import manifests
from tests.backends.kubernetes.kubelet import expand


def _objects(emitted) -> dict[str, dict]:
    return manifests(emitted["distributed"])


def test_a_two_node_stage_is_an_indexed_job_of_two_pods_on_two_nodes(emitted):
    job = _objects(emitted)["k8s/cloud/distributed-train-job.yaml"]
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 2, 2)
    pod = spec["template"]["spec"]
    assert pod["subdomain"] == "distributed-train"
    term = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    # Per node, as written: one T4 and 12 cpus in each pod.
    limits = pod["containers"][0]["resources"]["limits"]
    assert (limits["nvidia.com/gpu"], limits["cpu"]) == ("1", "12")


def test_the_headless_service_names_the_jobs_pods(emitted):
    objects = _objects(emitted)
    service = objects["k8s/cloud/distributed-train-headless-service.yaml"]
    job = objects["k8s/cloud/distributed-train-job.yaml"]
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"] is True
    assert service["metadata"]["name"] == job["spec"]["template"]["spec"]["subdomain"]
    assert service["spec"]["selector"].items() <= job["spec"]["template"]["metadata"]["labels"].items()
    # The run script applies by this label, so the Service comes with its Job.
    instance = "app.kubernetes.io/instance"
    assert service["metadata"]["labels"][instance] == job["metadata"]["labels"][instance]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_a_runs_name_suffix_keeps_the_subdomain_naming_the_service(emitted, tmp_path: Path):
    """The run scripts apply with `nameSuffix: -<run>`; kustomize must rename
    the Job's subdomain with the Service, or the pods' names never resolve."""
    base = tmp_path / "base"
    for name, text in emitted["distributed"].items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(text)
    (tmp_path / "kustomization.yaml").write_text("resources: [base/k8s/cloud]\nnameSuffix: -bob\n")
    built = subprocess.run(["kubectl", "kustomize", str(tmp_path)], capture_output=True, text=True, check=True).stdout
    objects = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(built)}
    job = objects[("Job", "distributed-train-bob")]
    assert ("Service", "distributed-train-bob") in objects
    assert job["spec"]["template"]["spec"]["subdomain"] == "distributed-train-bob"


def _run_pod(job: dict, index: int, tmp_path: Path, job_name: str) -> str:
    """The pod's script as the container runs it, with bash on PATH, and the
    completion index and host name (`<job>-<index>`) Kubernetes sets; returns
    what it printed."""
    script = expand(job["spec"]["template"]["spec"]["containers"][0]["args"][0])
    work = tmp_path / f"pod{index}"
    work.mkdir()
    done = subprocess.run(["/bin/sh", "-c", script], cwd=work, env={"PATH": "/usr/bin:/bin", "JOB_COMPLETION_INDEX": str(index),
                                                     "HOSTNAME": f"{job_name}-{index}"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_task_of_every_pod_sees_its_rank_and_the_master(emitted, tmp_path: Path):
    job = yaml.safe_load(emitted["distributed"]["k8s/cloud/distributed-barrier-job.yaml"])
    command = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    job["spec"]["template"]["spec"]["containers"][0]["args"][0] = command.replace(
        'python3 barrier.py > "rank-$$MLC_NODE_RANK-$$MLC_LOCAL_RANK.txt"',
        'echo "$$MLC_NODE_RANK/$$MLC_LOCAL_RANK $$MLC_NNODES $$MLC_MASTER_ADDR:$$MLC_MASTER_PORT"')
    # The Job's name as applied for run `bob` (the run scripts add the suffix).
    applied = "distributed-barrier-bob"
    seen = sorted(line for index in (0, 1) for line in _run_pod(job, index, tmp_path, applied).splitlines())
    master = f"{applied}-0.{applied}:29500"
    assert seen == [f"{node}/{task} 2 {master}" for node in (0, 1) for task in (0, 1)]


def test_torchrun_starts_one_agent_per_pod_with_the_rendezvous_on_pod_0(emitted):
    job = _objects(emitted)["k8s/cloud/distributed-train-job.yaml"]
    script = expand(job["spec"]["template"]["spec"]["containers"][0]["args"][0])
    assert ('torchrun --nnodes=2 --nproc_per_node=1 --node_rank="$MLC_NODE_RANK" --rdzv_id=distributed-train '
            '--rdzv_backend=c10d --rdzv_endpoint="$MLC_MASTER_ADDR:$MLC_MASTER_PORT" train.py') in script
    assert 'MLC_NODE_RANK="${JOB_COMPLETION_INDEX:-0}"' in script
