"""`mlc plan --live` on the real test cluster (issue 16, item 6): with both
nodes held by jobs whose time limit ends in two minutes, `sbatch
--test-only` expects a new job to start then, and the live plan starts
nothing before; the offline plan still starts at 0. The holding jobs are
cancelled as soon as the plan is made (and by the fixture, whatever
happens)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.slurm.cluster import GENEROUS_TIMEOUT

pytestmark = pytest.mark.slurm

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "examples" / "slurm" / "sweep.mlx"


def _plan(*extra: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "compiler.cli", "plan", str(SWEEP), "--format", "json", *extra],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_the_live_plan_starts_nothing_before_the_queue_would(slurm_cluster, slurm_workdir, two_slurm_nodes):
    held = []
    try:
        for node in two_slurm_nodes:
            submitted = subprocess.run(
                ["sbatch", "--parsable", f"--chdir={slurm_workdir}", "--output=/dev/null", "--exclusive",
                 f"--nodelist={node}", "--time=2", "--wrap=sleep 300"],
                capture_output=True, text=True, timeout=60, check=True)
            held.append(submitted.stdout.strip().split(";")[0])
        deadline = time.monotonic() + GENEROUS_TIMEOUT
        while set(slurm_cluster.job_states(held).values()) != {"RUNNING"}:
            assert time.monotonic() < deadline, slurm_cluster.job_states(held)
            time.sleep(0.5)
        live = _plan("--live")
    finally:
        subprocess.run(["scancel", *held], check=False, timeout=60)
    offline = _plan()
    assert min(a["start"] for a in offline["assignments"]) == 0
    waits = [note for note in live["notes"] if note.startswith("live: a job on cluster.")]
    assert len(waits) == 2, live["notes"]
    first = min(a["start"] for a in live["assignments"])
    assert 20 <= first <= 130, live["notes"]
    assert all("starts nothing for" in a["reason"] for a in live["assignments"])
