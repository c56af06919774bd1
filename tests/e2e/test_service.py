"""examples/slurm/service.mlx on the cluster: a service job on the gpu
partition publishes its node's address once it answers, a three-member job
array on the cpu partition calls it at ${in.api}, and the workflow cancels
the service job after the last member. Then `mlc down` and a second run
start it again without redoing the array."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

import pytest
from e2e_scenario import job_names, job_record, jobs_in

pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("e2e_service")]

EXAMPLE = "service.mlx"
EXPERIMENT = "slurm_service"


@dataclass(frozen=True)
class ServiceRun:
    run: subprocess.CompletedProcess[str]
    jobs: dict[str, dict[str, str]]
    record: dict[str, str]
    status: subprocess.CompletedProcess[str]


def _left_the_queue(job: str, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        out = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True)
        if not out.stdout.strip():
            return True
        time.sleep(1)
    return False


@pytest.fixture(scope="module")
def served(scenario, slurm_cluster) -> ServiceRun:
    run = scenario.mlc("run")
    record = job_record(scenario.folder, "web")
    if record.get("id"):
        _left_the_queue(record["id"])  # COMPLETING lasts a while under load
    return ServiceRun(run=run, jobs=jobs_in(slurm_cluster.jobcomp_log, scenario.work_root), record=record,
                      status=scenario.mlc("status"))


def test_the_array_called_the_service_at_its_published_address(served, scenario):
    assert served.run.returncode == 0, served.run.stdout + served.run.stderr
    for n in (1, 2, 3):
        assert (scenario.work_root / "answers" / f"{n}.txt").read_text() == f"pong {n}\n"
    assert "service ready at http://" in (scenario.folder / ".mlc" / "logs" / "web.log").read_text()


def test_the_service_job_was_cancelled_after_the_last_consumer(served, scenario):
    lines = served.run.stdout.splitlines()
    stop = next(i for i, line in enumerate(lines) if "started  stop web" in line)
    assert all(i < stop for i, line in enumerate(lines) if "done     stage call" in line)
    assert served.record.get("id") and _left_the_queue(served.record["id"], 5)
    assert not (scenario.work_root / ".mlc" / "services" / "web.url").exists()  # withdrawn with the job
    assert "slurm_service-web" in job_names(served.jobs)
    assert "service web: on cluster (not running)" in served.status.stdout


def test_down_then_run_starts_the_service_again_without_redoing_the_array(served, scenario):
    assert scenario.mlc("down").returncode == 0
    again = scenario.mlc("run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "started  service web on Slurm cluster" in again.stdout
    assert "done: 2 steps" in again.stdout  # the service and its stop; the array is not redone
    second = job_record(scenario.folder, "web")
    assert second.get("id") and second["id"] != served.record["id"]
    assert _left_the_queue(second["id"])
