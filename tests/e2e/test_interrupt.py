"""Stopping a run cancels the Slurm job it is waiting for
(examples/slurm/slow.mlx: one job that sleeps until stopped), four ways:
Ctrl-C on `mlc run` (SIGINT to the whole process group, as a terminal sends
it), SIGINT to `mlc run` alone (`kill -INT`), `mlc down` from another shell,
and Ctrl-C on `snakemake` run by hand (the submit script cancels its job).
Each way runs the same folder again, which also shows that an interrupted
step is submitted afresh."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass

import pytest
from e2e_scenario import job_record, stop_session

from tests.slurm.cluster import FINISHED_STATES, GENEROUS_TIMEOUT

# One worker runs the whole module (with --dist loadgroup), so its scenario runs once.
pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("e2e_interrupt")]

EXAMPLE = "slow.mlx"
EXPERIMENT = "slurm_slow"
SUBMIT_TIMEOUT = GENEROUS_TIMEOUT  # from `mlc run` to a running job: waited for, not guessed
STOP_TIMEOUT = 60  # seconds from the signal to `mlc run` exiting: what "promptly" means under load


@dataclass(frozen=True)
class Stopped:
    how: str
    job: str
    exit_status: int
    stderr: str
    seconds_to_exit: float
    state_after: str
    down: subprocess.CompletedProcess[str] | None


def _wait_until(condition, timeout: float, what: str, process: subprocess.Popen[str] | None = None):
    """Polls `condition` until it returns something true; fails on a timeout,
    or at once when `process` (the run that should get there) has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"`mlc run` exited with {process.returncode} before {what}:\n{out}{err}")
        time.sleep(0.5)
    pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}")


def _new_job_id(scenario, previous: str | None) -> str | None:
    job = job_record(scenario.folder, "wait").get("id")
    return job if job != previous else None


def _finished_state(slurm_cluster, job: str) -> str | None:
    """The job's final state, or None while it is pending, running or on
    its way out (COMPLETING lasts a while on a loaded machine)."""
    state = slurm_cluster.job_states([job])[job]
    return state if state in FINISHED_STATES or state == "UNKNOWN" else None


@pytest.fixture(scope="module", params=["Ctrl-C", "SIGINT to mlc", "mlc down", "Ctrl-C on snakemake"])
def stopped(request, scenario, slurm_cluster) -> Stopped:
    previous = job_record(scenario.folder, "wait").get("id")
    if request.param == "Ctrl-C on snakemake":
        assert scenario.mlc("compile").returncode == 0
        process = scenario.popen_snakemake()
    else:
        process = scenario.popen_run()
    down = None
    try:
        job = _wait_until(lambda: _new_job_id(scenario, previous), SUBMIT_TIMEOUT,
                          "the job record of `wait`", process)
        _wait_until(lambda: slurm_cluster.job_states([job]) == {job: "RUNNING"}, SUBMIT_TIMEOUT,
                    f"job {job} to run", process)
        started = time.monotonic()
        if request.param in ("Ctrl-C", "Ctrl-C on snakemake"):
            os.killpg(process.pid, signal.SIGINT)
        elif request.param == "SIGINT to mlc":
            process.send_signal(signal.SIGINT)
        else:
            down = scenario.mlc("down")
        _, stderr = process.communicate(timeout=GENEROUS_TIMEOUT)
        seconds_to_exit = time.monotonic() - started
    except BaseException:
        # The next way of stopping must not find this one's job on the node.
        stop_session(process)
        slurm_cluster.cancel_jobs_under(scenario.work_root)
        raise
    state = _wait_until(lambda: _finished_state(slurm_cluster, job), GENEROUS_TIMEOUT, f"job {job} to end")
    return Stopped(how=request.param, job=job, exit_status=process.returncode, stderr=stderr,
                   seconds_to_exit=seconds_to_exit, state_after=state, down=down)


def test_the_running_slurm_job_is_cancelled(stopped):
    assert stopped.state_after == "CANCELLED"


def test_the_run_stops_promptly(stopped):
    assert stopped.seconds_to_exit < STOP_TIMEOUT, stopped.stderr


def test_exit_status_and_message(stopped):
    if stopped.how == "Ctrl-C on snakemake":
        # Its message to the log is lost: `tee` got the Ctrl-C too.
        assert stopped.exit_status != 0
    elif stopped.how == "mlc down":
        # The run sees its job fail; `mlc down` says what it cancelled.
        assert stopped.exit_status == 1, stopped.stderr
        assert "FAILED: stage wait on Slurm cluster.cpu" in stopped.stderr
        assert stopped.down.returncode == 0, stopped.down.stderr
        assert f"cancelled Slurm job {stopped.job}" in stopped.down.stdout
    else:
        assert stopped.exit_status == 130, stopped.stderr
        assert f"cancelled Slurm job {stopped.job}" in stopped.stderr


def test_stopped_step_is_not_marked_done(stopped, scenario):
    assert not (scenario.folder / ".mlc/done/wait").exists()


def test_a_cancelled_job_never_records_success(stopped, scenario):
    """scancel sends TERM, and the sbatch script's trap records 128 + 15. A
    second scancel (mlc and the submit script both cancel on Ctrl-C) may
    escalate to KILL before the trap runs: then no status is left, which the
    submit script also counts as a failure. Never a 0."""
    status_file = scenario.work_root / ".mlc/status" / stopped.job
    if stopped.how == "mlc down":  # one scancel: the trap runs
        _wait_until(status_file.exists, 60, f"the status file of job {stopped.job}")
    if status_file.exists():
        assert status_file.read_text() == "143\n"
