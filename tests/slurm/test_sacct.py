"""The test cluster keeps accounts: sacct reports what a finished job used,
and compiler.sites.slurm.accounting reads it."""

from __future__ import annotations

import subprocess
import time

import pytest

from compiler.sites.slurm.accounting import SACCT_FORMAT, JobUsage, jobs, parse_sacct
from tests.slurm.cluster import GENEROUS_TIMEOUT

pytestmark = pytest.mark.slurm

MIB = 1024**2


def sacct_usage(job: str) -> JobUsage | None:
    """The job with its steps as sacct reports them; None until slurmdbd has
    stored its end (slurmctld sends job records to slurmdbd asynchronously)."""
    result = subprocess.run(["sacct", "-j", job, "--parsable2", f"--format={SACCT_FORMAT}"],
                            capture_output=True, text=True, timeout=60, check=True)
    usage = {u.job.job_id: u for u in jobs(parse_sacct(result.stdout))}.get(job)
    finished = usage is not None and usage.job.end is not None and all(s.end is not None for s in usage.steps)
    return usage if finished else None


def test_elapsed_time_and_memory_of_a_finished_job_are_read_from_sacct(
        slurm_cluster, slurm_workdir, slurm_accounting):
    # Holds 200 MiB for 3 s: several of the once-a-second memory samples see it.
    hold = "import time; block = bytearray(200 * 1024 * 1024); time.sleep(3)"
    submission = subprocess.run(
        ["sbatch", "--wait", "--parsable", f"--chdir={slurm_workdir}", "--output=slurm-%j.out",
         "--mem=1G", f"--wrap=python3 -c '{hold}'"],
        capture_output=True, text=True, timeout=GENEROUS_TIMEOUT, check=False)
    assert submission.returncode == 0, submission.stderr
    job = submission.stdout.strip().split(";", 1)[0]

    deadline = time.monotonic() + 120
    while (usage := sacct_usage(job)) is None:
        assert time.monotonic() < deadline, f"sacct has no finished record of job {job} after 120 s"
        time.sleep(0.5)

    assert (usage.job.state, usage.job.exit_code, usage.job.signal) == ("COMPLETED", 0, 0)
    assert 3 <= usage.job.elapsed_s < 60
    assert usage.job.start <= usage.job.end and usage.job.submit <= usage.job.start
    assert len(usage.job.nodes) == 1 and usage.job.nodes[0] in slurm_cluster_nodes()
    (batch,) = [step for step in usage.steps if step.step == "batch"]
    # The bytearray itself, and less than the whole 1 GiB the job asked for.
    assert 200 * MIB <= batch.max_rss_bytes < 1024 * MIB
    assert usage.max_rss_bytes == batch.max_rss_bytes
    assert batch.cpu_time_s > 0


def slurm_cluster_nodes() -> set[str]:
    result = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%N"],
                            capture_output=True, text=True, timeout=30, check=True)
    return set(result.stdout.split())
