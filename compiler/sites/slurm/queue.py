"""How long a Slurm partition's queue would hold a job now (`mlc plan
--live`): `sbatch --test-only` submits nothing and prints when the
scheduler expects a job to start (`sbatch: Job 12 to start at
2026-12-02T08:30:59 using 1 processors on nodes n1 in partition cpu`).

The probe is the smallest job of the partition (one node, one task, one
CPU): the wait of a bigger job is at least as long, so the plan stays
optimistic rather than wrong. The time is the cluster's local time, read
as this machine's (the same zone is assumed)."""

from __future__ import annotations

import re
import shlex
import subprocess
from datetime import datetime

_START = re.compile(r"to start at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)")
TIMEOUT = 60.0


def probe_argv(login: str, partition: str, account: str | None, qos: str | None) -> list[str]:
    words = ["sbatch", "--test-only", f"--partition={partition}", "--nodes=1", "--ntasks=1",
             "--cpus-per-task=1", *([f"--account={account}"] if account else []),
             *([f"--qos={qos}"] if qos else []), "--wrap=true"]
    if login:
        return ["ssh", "-o", "BatchMode=yes", "--", login, " ".join(shlex.quote(w) for w in words)]
    return words


def parse_start(text: str) -> datetime | None:
    match = _START.search(text)
    return datetime.fromisoformat(match.group(1)) if match else None


def expected_wait(login: str, partition: str, account: str | None = None, qos: str | None = None,
                  now: datetime | None = None) -> tuple[float | None, str]:
    """(seconds until a job would start, None when unknown; what was said)."""
    try:
        result = subprocess.run(probe_argv(login, partition, account, qos), capture_output=True, text=True,
                                timeout=TIMEOUT, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, str(error)
    said = (result.stderr + result.stdout).strip()
    start = parse_start(said)
    if start is None:
        return None, said.splitlines()[-1] if said else f"sbatch --test-only exited {result.returncode}"
    return max(0.0, (start - (now or datetime.now())).total_seconds()), said
