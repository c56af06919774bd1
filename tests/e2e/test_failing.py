"""examples/slurm/failing.mlx: array task 1 of `flaky` exits 3. The run
fails and says which stage, site and job, with the task's log; the re-run
with `-p fail=false` resumes without resubmitting the stage that finished."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import pytest
from e2e_scenario import job_names, job_record, jobs_in, status_table

# One worker runs the whole module (with --dist loadgroup), so its scenario runs once.
pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("e2e_failing")]

EXAMPLE = "failing.mlx"
EXPERIMENT = "slurm_failing"


@dataclass(frozen=True)
class FailedThenFixed:
    failed: subprocess.CompletedProcess[str]
    jobs_after_failure: dict[str, dict[str, str]]
    flaky_record: dict[str, str]
    status_after_failure: subprocess.CompletedProcess[str]
    fixed: subprocess.CompletedProcess[str]
    jobs_after_fix: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def runs(scenario, slurm_cluster) -> FailedThenFixed:
    failed = scenario.mlc("run")
    jobs_after_failure = jobs_in(slurm_cluster.jobcomp_log, scenario.work_root)
    flaky_record = job_record(scenario.folder, "flaky")
    status_after_failure = scenario.mlc("status")
    fixed = scenario.mlc("run", "fail=false")
    return FailedThenFixed(
        failed=failed,
        jobs_after_failure=jobs_after_failure,
        flaky_record=flaky_record,
        status_after_failure=status_after_failure,
        fixed=fixed,
        jobs_after_fix=jobs_in(slurm_cluster.jobcomp_log, scenario.work_root),
    )


def _states(jobs: dict[str, dict[str, str]], name: str) -> dict[str, str]:
    return {key: r["JobState"] for key, r in jobs.items() if r["Name"] == name}


def test_failing_task_fails_the_run(runs):
    assert runs.failed.returncode == 1, runs.failed.stdout + runs.failed.stderr
    assert "FAILED   stage flaky on Slurm cluster.cpu" in runs.failed.stdout


def test_only_the_failing_task_failed_and_nothing_after_it_ran(runs):
    flaky = _states(runs.jobs_after_failure, "slurm_failing-flaky")
    assert sorted(flaky.values()) == ["COMPLETED", "COMPLETED", "FAILED"]
    (failed_task,) = [key for key, state in flaky.items() if state == "FAILED"]
    assert failed_task.endswith("_1")
    assert runs.jobs_after_failure[failed_task]["ExitCode"] == "3:0"
    assert job_names(runs.jobs_after_failure) == ["slurm_failing-first"] + ["slurm_failing-flaky"] * 3


def test_failure_names_stage_site_job_and_shows_the_log(runs):
    job = runs.flaky_record.get("id")
    connection = {k: runs.flaky_record.get(k) for k in ("kind", "site", "id", "login", "array", "watched")}
    assert connection == {"kind": "slurm", "site": "cluster", "id": job, "login": "", "array": "0-2",
                          "watched": "ended"}  # a failed job seen to its end is not reattached
    assert any(key.startswith(f"{job}_") for key in _states(runs.jobs_after_failure, "slurm_failing-flaky"))
    assert f"FAILED: stage flaky on Slurm cluster.cpu, slurm job {job}\n" in runs.failed.stderr
    assert f"| Slurm job {job} (flaky.sbatch) failed with status 3 (failed tasks: {job}_1)\n" in runs.failed.stderr
    assert "| flaky member k=2 fails on purpose\n" in runs.failed.stderr
    # Only the failed task's logs are shown.
    assert f"_{job}_0." not in runs.failed.stderr and f"-{job}_0." not in runs.failed.stderr


def test_each_task_left_its_exit_status_in_the_work_root(runs, scenario):
    """What the submit script decides by, independent of how long Slurm
    remembers the tasks (see docs/slurm-test-cluster.md)."""
    job = runs.flaky_record["id"]
    statuses = {path.name: path.read_text() for path in (scenario.work_root / ".mlc/status").glob(f"{job}_*")}
    assert statuses == {f"{job}_0": "0\n", f"{job}_1": "3\n", f"{job}_2": "0\n"}


def test_status_after_the_failure(runs):
    first = runs.jobs_after_failure
    (first_job,) = [r["JobId"] for r in first.values() if r["Name"] == "slurm_failing-first"]
    assert runs.status_after_failure.stdout.splitlines()[-1] == "2 of 4 steps done"
    assert status_table(runs.status_after_failure.stdout) == {
        "ship the result cache to cluster": ("done", ""),
        "stage first on Slurm cluster.cpu": ("done", f"slurm job {first_job}"),
        # Status reads the folder only: a job was submitted, no flag was left.
        "stage flaky on Slurm cluster.cpu": ("submitted", f"slurm job {runs.flaky_record['id']}"),
        "stage last on Slurm cluster.cpu": ("pending", ""),
    }


def test_rerun_resumes_without_resubmitting_what_finished(runs):
    assert runs.fixed.returncode == 0, runs.fixed.stdout + runs.fixed.stderr
    assert "(2 of 4 steps already done)" in runs.fixed.stdout  # first, and the cache's ship step
    assert "done: 2 steps" in runs.fixed.stdout
    new = {key: r for key, r in runs.jobs_after_fix.items() if key not in runs.jobs_after_failure}
    assert job_names(new) == ["slurm_failing-flaky"] * 3 + ["slurm_failing-last"]
    assert {r["JobState"] for r in new.values()} == {"COMPLETED"}


def test_rerun_outputs(runs, scenario):
    assert (scenario.work_root / "all.txt").read_text() == "k=1 seed\nk=2 seed\nk=3 seed\n"
