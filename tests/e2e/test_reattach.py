"""Reattach, never duplicate (issue 16, item 3): `mlc run` and its Snakemake
are killed outright (SIGKILL, both sessions) while their Slurm job runs;
the next `mlc run` waits for that same job instead of submitting it again
(examples/slurm/slow.mlx, made short with -p seconds=20)."""

from __future__ import annotations

import os
import signal
import time

import pytest
from e2e_scenario import job_record, jobs_in

from compiler.runner import ownership
from tests.slurm.cluster import GENEROUS_TIMEOUT

pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("e2e_reattach")]

EXAMPLE = "slow.mlx"
EXPERIMENT = "slurm_slow"
PARAMS = ("seconds=20",)


def _wait_until(condition, what: str):
    deadline = time.monotonic() + GENEROUS_TIMEOUT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"waited {GENEROUS_TIMEOUT:.0f} s for {what}")


def test_a_killed_run_is_reattached_not_resubmitted(scenario, slurm_cluster):
    process = scenario.popen_run()
    job = _wait_until(lambda: job_record(scenario.folder, "wait").get("id"), "the job record of `wait`")
    _wait_until(lambda: slurm_cluster.job_states([job]) == {job: "RUNNING"}, f"job {job} to run")
    owner = ownership.read(scenario.folder)
    os.killpg(owner.snakemake.pid, signal.SIGKILL)  # Snakemake's session: the submit script too
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    assert slurm_cluster.job_states([job]) == {job: "RUNNING"}, "the job should outlive the killed run"

    again = scenario.mlc("run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert job_record(scenario.folder, "wait").get("id") == job
    assert [r["JobId"] for r in jobs_in(slurm_cluster.jobcomp_log, scenario.work_root).values()] == [job]
    assert (scenario.work_root / "waited.txt").read_text() == "waited\n"
