"""Fixtures and helpers for tests that need the real two-node Slurm cluster.

`.ci/slurm-up` starts the cluster and writes /run/mlc-slurm.env; see
docs/slurm-test-cluster.md. Without a cluster these tests skip, unless
MLC_REQUIRE_SLURM=1 (set by CI), where they fail instead.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ENV_FILE = Path("/run/mlc-slurm.env")
DEFAULT_JOBCOMP_LOG = Path("/var/log/slurm/jobcomp.log")
DEFAULT_SCRATCH = Path("/tmp/mlc-slurm-scratch")

# Base states of a job that will not change any more (squeue(1) "JOB STATE CODES").
FINISHED_STATES = frozenset(
    {
        "BOOT_FAIL",
        "CANCELLED",
        "COMPLETED",
        "DEADLINE",
        "FAILED",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "PREEMPTED",
        "TIMEOUT",
    }
)

# One `Key=value` field of a job completion log line or of `scontrol -o show job`.
_FIELD = re.compile(r"(?:^|\s)([A-Za-z][\w:/]*)=(\S*)")


def read_env_file(path: Path = ENV_FILE) -> dict[str, str]:
    """The `export NAME=value` lines .ci/slurm-up wrote, as a mapping."""
    if not path.is_file():
        return {}
    variables = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            variables[name] = value
    return variables


def _setting(name: str, default: Path) -> Path:
    """A path from the environment, else from .ci/slurm-up's env file, else the default."""
    return Path(os.environ.get(name) or read_env_file().get(name) or default)


def parse_job_line(line: str) -> dict[str, str]:
    """The fields of one job line; the first occurrence of a key wins.

    Values containing spaces (a job name, a path) are cut at the space: the
    fields the helpers rely on (ids, states, limits) never contain any.
    """
    fields: dict[str, str] = {}
    for key, value in _FIELD.findall(line):
        fields.setdefault(key, value)
    return fields


def display_id(record: dict[str, str]) -> str:
    """The id squeue shows: `<array job>_<task>` for an array task, else the job id."""
    array_job = record.get("ArrayJobId")
    task = record.get("ArrayTaskId")
    if array_job and task:
        return f"{array_job}_{task}" if task.isdigit() else f"{array_job}_[{task}]"
    return record["JobId"]


def _matches(record: dict[str, str], requested: str) -> bool:
    return requested in (record["JobId"], record.get("ArrayJobId"), display_id(record))


def _finished_records(jobcomp_log: Path) -> list[dict[str, str]]:
    if not jobcomp_log.is_file():
        return []
    records = (parse_job_line(line) for line in jobcomp_log.read_text().splitlines())
    return [record for record in records if "JobId" in record]


def _live_records() -> list[dict[str, str]]:
    result = subprocess.run(
        ["scontrol", "--oneliner", "show", "job"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    records = (parse_job_line(line) for line in result.stdout.splitlines())
    return [record for record in records if "JobId" in record]


def _base_state(state: str) -> str:
    # scontrol adds flags after a '+' (e.g. COMPLETED+COMPLETING); keep the state.
    return state.split("+", 1)[0]


def job_records(job_ids: Iterable[str | int], jobcomp_log: Path | None = None) -> dict[str, dict[str, str]]:
    """The Slurm record of each job, keyed by the id squeue shows.

    `job_ids` are ids as `sbatch --parsable` prints them (`123`, or
    `123;cluster`). An array job id stands for all of its tasks, which come back
    as `123_0`, `123_1`, ...; an id `123_4` selects one task.

    A finished job's record is its line in the job completion log (fields as in
    that log: JobState, ExitCode, TimeLimit, Tres, ...): durable, unlike
    slurmctld's copy, which MinJobAge drops seconds after the end. A job still
    pending or running is described by `scontrol show job` (its field names).
    """
    log = jobcomp_log or _setting("MLC_SLURM_JOBCOMP", DEFAULT_JOBCOMP_LOG)
    wanted = [str(job_id).split(";", 1)[0] for job_id in job_ids]
    records: dict[str, dict[str, str]] = {}
    # Later lines win: a job requeued and finished again is logged twice.
    for record in _finished_records(log):
        if any(_matches(record, job_id) for job_id in wanted):
            records[display_id(record)] = record
    for record in _live_records():
        still_active = _base_state(record.get("JobState", "")) not in FINISHED_STATES
        if still_active and any(_matches(record, job_id) for job_id in wanted):
            records[display_id(record)] = record
    return dict(sorted(records.items()))


def job_states(job_ids: Iterable[str | int], jobcomp_log: Path | None = None) -> dict[str, str]:
    """The state of each job (COMPLETED, FAILED, RUNNING, ...), keyed like `job_records`.

    A requested id Slurm has no record of maps to "UNKNOWN", so that a lost job
    shows up in an assertion instead of vanishing from it.
    """
    job_ids = [str(job_id).split(";", 1)[0] for job_id in job_ids]
    records = job_records(job_ids, jobcomp_log)
    states = {key: _base_state(record.get("JobState", "UNKNOWN")) for key, record in records.items()}
    for job_id in job_ids:
        if not any(_matches(record, job_id) for record in records.values()):
            states[job_id] = "UNKNOWN"
    return dict(sorted(states.items()))


# How long a test waits for something that needs its own jobs to run: generous,
# because on a loaded machine (two busy cores) Slurm, Snakemake and the jobs all
# run slowly; a test that passes waits only as long as its jobs take.
GENEROUS_TIMEOUT = float(os.environ.get("MLC_SLURM_TEST_TIMEOUT", "900"))


def jobs_under(path: Path) -> list[str]:
    """The jobs squeue still lists (pending, running or completing) whose
    working directory is `path` or below it: a test's own jobs, since every
    test works in a fresh directory. Array jobs are named by their array id."""
    result = subprocess.run(["squeue", "--noheader", "--array-unique", "--format=%F|%Z"],
                            capture_output=True, text=True, timeout=60, check=True)
    root = str(path).rstrip("/")
    found = set()
    for line in result.stdout.splitlines():
        job, _, workdir = line.strip().partition("|")
        if workdir == root or workdir.startswith(root + "/"):
            found.add(job)
    return sorted(found, key=int)


def cancel_jobs_under(path: Path, timeout: float = 120) -> list[str]:
    """Cancels every job of `path` (see `jobs_under`) and waits until squeue
    no longer lists any, so that the next test finds the node free. Returns
    the jobs that had to be cancelled; fails if they do not go in time."""
    cancelled = jobs_under(path)
    if not cancelled:
        return []
    subprocess.run(["scancel", *cancelled], capture_output=True, text=True, timeout=60, check=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = jobs_under(path)
        if not left:
            return cancelled
        time.sleep(0.5)
    pytest.fail(f"jobs {', '.join(left)} under {path} were still listed {timeout:.0f} s after scancel",
                pytrace=False)


@dataclass(frozen=True)
class SlurmCluster:
    """The running test cluster: where jobs may work, and how to look jobs up."""

    scratch: Path
    jobcomp_log: Path

    def workdir(self) -> Path:
        """A fresh world-writable directory under the scratch path for one test's jobs."""
        path = Path(tempfile.mkdtemp(prefix="test-", dir=self.scratch))
        path.chmod(0o777)
        return path

    def cancel_jobs_under(self, path: Path) -> list[str]:
        return cancel_jobs_under(path)

    def job_records(self, job_ids: Iterable[str | int]) -> dict[str, dict[str, str]]:
        return job_records(job_ids, self.jobcomp_log)

    def job_states(self, job_ids: Iterable[str | int]) -> dict[str, str]:
        return job_states(job_ids, self.jobcomp_log)


def _cluster_answers() -> str | None:
    """None when `sinfo` answers, else why not."""
    try:
        result = subprocess.run(["sinfo", "--noheader"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return "sinfo is not installed"
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 30 s"
    if result.returncode != 0:
        return f"sinfo failed: {result.stderr.strip()}"
    return None


def _missing(message: str) -> None:
    """Skips the test for want of something the cluster should offer; fails it
    under MLC_REQUIRE_SLURM=1 (CI), where a cluster lacking it is a defect."""
    if os.environ.get("MLC_REQUIRE_SLURM") == "1":
        pytest.fail(f"MLC_REQUIRE_SLURM=1 but {message}", pytrace=False)
    pytest.skip(message)


def usable_nodes() -> list[str]:
    """The nodes that take jobs (idle, mixed, allocated or completing)."""
    result = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%N|%T"],
                            capture_output=True, text=True, timeout=30, check=True)
    nodes = set()
    for line in result.stdout.splitlines():
        node, _, state = line.strip().partition("|")
        if state.rstrip("*~#!%$@^-") in ("idle", "mixed", "allocated", "completing"):
            nodes.add(node)
    return sorted(nodes)


def _accounting_answers() -> str | None:
    """None when sacct answers, else what it said."""
    result = subprocess.run(["sacct", "--noheader", "--parsable2", "--starttime=now", "--format=JobID"],
                            capture_output=True, text=True, timeout=30, check=False)
    return None if result.returncode == 0 else (result.stderr.strip() or f"exit status {result.returncode}")


@pytest.fixture(scope="session")
def slurm_cluster() -> SlurmCluster:
    problem = _cluster_answers()
    if problem is not None:
        _missing(f"no Slurm cluster ({problem}); start one with `.ci/slurm-up` (as root)")
    scratch = _setting("MLC_SLURM_SCRATCH", DEFAULT_SCRATCH)
    if not scratch.is_dir():
        pytest.fail(f"the Slurm scratch directory {scratch} is missing; rerun `.ci/slurm-up`", pytrace=False)
    return SlurmCluster(scratch=scratch, jobcomp_log=_setting("MLC_SLURM_JOBCOMP", DEFAULT_JOBCOMP_LOG))


@pytest.fixture
def two_slurm_nodes(slurm_cluster) -> list[str]:
    """The names of two nodes that take jobs (.ci/slurm-up makes mlc-n1 and mlc-n2)."""
    nodes = usable_nodes()
    if len(nodes) < 2:
        _missing(f"the Slurm cluster has {len(nodes)} usable node(s) ({', '.join(nodes) or 'none'}), "
                 "not two; rerun `.ci/slurm-up`")
    return nodes[:2]


@pytest.fixture
def slurm_accounting(slurm_cluster) -> None:
    """sacct answers: the cluster stores jobs through slurmdbd."""
    problem = _accounting_answers()
    if problem is not None:
        _missing(f"the Slurm cluster has no accounting (sacct: {problem}); rerun `.ci/slurm-up`")


@pytest.fixture
def slurm_workdir(slurm_cluster):
    """A fresh directory for one test's jobs; whatever happened in the test,
    its jobs still in Slurm are cancelled afterwards, and gone."""
    path = slurm_cluster.workdir()
    yield path
    slurm_cluster.cancel_jobs_under(path)
