"""The test cluster is a real Slurm: jobs run, arrays fan out, GPUs and limits are honoured."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.slurm import cluster
from tests.slurm.cluster import GENEROUS_TIMEOUT

# Every test works in `slurm_workdir`, which cancels the test's jobs afterwards.
pytestmark = pytest.mark.slurm


def sbatch_wait(workdir: Path, *options: str, command: str) -> subprocess.CompletedProcess[str]:
    """Submits `command` as a batch job running in `workdir` and waits for it to end."""
    return subprocess.run(
        ["sbatch", "--wait", "--parsable", f"--chdir={workdir}", "--output=slurm-%j.out", *options, f"--wrap={command}"],
        capture_output=True,
        text=True,
        timeout=GENEROUS_TIMEOUT,
    )


def job_id(submission: subprocess.CompletedProcess[str]) -> str:
    return submission.stdout.strip().split(";", 1)[0]


def test_job_runs_to_completion(slurm_cluster, slurm_workdir):
    workdir = slurm_workdir
    submission = sbatch_wait(workdir, command="echo hello > greeting.txt")
    assert submission.returncode == 0, submission.stderr
    assert (workdir / "greeting.txt").read_text() == "hello\n"
    assert slurm_cluster.job_states([job_id(submission)]) == {job_id(submission): "COMPLETED"}


def test_array_tasks_each_get_their_own_index(slurm_cluster, slurm_workdir):
    workdir = slurm_workdir
    submission = sbatch_wait(
        workdir, "--array=0-2", command='echo "$SLURM_ARRAY_TASK_ID" > "task-$SLURM_ARRAY_TASK_ID.txt"'
    )
    assert submission.returncode == 0, submission.stderr
    array = job_id(submission)
    for index in range(3):
        assert (workdir / f"task-{index}.txt").read_text() == f"{index}\n"
    assert slurm_cluster.job_states([array]) == {f"{array}_{index}": "COMPLETED" for index in range(3)}


def test_gpu_job_runs_on_the_gpu_partition_with_a_gpu(slurm_cluster, slurm_workdir):
    workdir = slurm_workdir
    submission = sbatch_wait(
        workdir,
        "--partition=gpu",
        "--gres=gpu:a100:1",
        command='echo "$SLURM_JOB_PARTITION $SLURM_GPUS_ON_NODE" > where.txt',
    )
    assert submission.returncode == 0, submission.stderr
    assert (workdir / "where.txt").read_text() == "gpu 1\n"
    record = slurm_cluster.job_records([job_id(submission)])[job_id(submission)]
    assert (record["JobState"], record["Partition"]) == ("COMPLETED", "gpu")


def test_failing_job_fails_sbatch_wait_and_is_recorded_as_failed(slurm_cluster, slurm_workdir):
    submission = sbatch_wait(slurm_workdir, command="exit 3")
    # sbatch --wait exits with the job's exit code.
    assert submission.returncode == 3, submission.stderr
    record = slurm_cluster.job_records([job_id(submission)])[job_id(submission)]
    assert (record["JobState"], record["ExitCode"]) == ("FAILED", "3:0")


def test_time_limit_and_memory_are_granted_and_recorded(slurm_cluster, slurm_workdir):
    workdir = slurm_workdir
    submission = sbatch_wait(workdir, "--time=7", "--mem=300M", command='echo "$SLURM_MEM_PER_NODE" > memory.txt')
    assert submission.returncode == 0, submission.stderr
    assert (workdir / "memory.txt").read_text() == "300\n"
    record = slurm_cluster.job_records([job_id(submission)])[job_id(submission)]
    assert record["TimeLimit"] == "7"  # the completion log counts minutes
    assert "mem=300M" in record["Tres"].split(",")


def test_memory_beyond_the_node_is_refused_at_submission(slurm_cluster, slurm_workdir):
    submission = sbatch_wait(slurm_workdir, "--mem=10T", command="true")
    assert submission.returncode != 0
    assert "Requested node configuration is not available" in submission.stderr


def test_unknown_job_is_reported_as_unknown(slurm_cluster, slurm_workdir):
    assert slurm_cluster.job_states(["999999999"]) == {"999999999": "UNKNOWN"}


def test_a_tests_leftover_jobs_are_cancelled_and_gone(slurm_cluster, slurm_workdir):
    """What every Slurm test's teardown relies on: jobs left running or
    pending under a test's directory (a timeout, a failed assertion) are
    cancelled, and squeue no longer lists them when the helper returns."""
    elsewhere = slurm_cluster.workdir()
    submissions = [
        subprocess.run(["sbatch", "--parsable", f"--chdir={where}", "--output=/dev/null", *options,
                        "--wrap=sleep 600"], capture_output=True, text=True, timeout=60)
        for where, options in ((slurm_workdir, ()), (slurm_workdir.parent, ()), (slurm_workdir, ("--array=0-1",)))
    ]
    assert all(s.returncode == 0 for s in submissions), [s.stderr for s in submissions]
    own, other, array = (job_id(s) for s in submissions)
    try:
        assert slurm_cluster.cancel_jobs_under(slurm_workdir) == sorted([own, array], key=int)
        assert cluster.jobs_under(slurm_workdir) == []
        assert other in cluster.jobs_under(slurm_workdir.parent)  # not below it: left alone
    finally:
        subprocess.run(["scancel", other], capture_output=True, timeout=60)
        cluster.cancel_jobs_under(elsewhere)
