"""The test cluster has two nodes, and a job spanning both really runs on both:
each node is its own slurmd in its own network namespace (.ci/slurm-up)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.slurm.cluster import GENEROUS_TIMEOUT

pytestmark = pytest.mark.slurm

BARRIER = Path(__file__).parent / "jobs" / "tcp_barrier.py"


def test_a_two_node_job_meets_itself_on_two_different_nodes(slurm_cluster, slurm_workdir, two_slurm_nodes):
    shutil.copy(BARRIER, slurm_workdir / "tcp_barrier.py")
    script = slurm_workdir / "two-nodes.sbatch"
    script.write_text(
        "#!/bin/bash\n"
        "#SBATCH --nodes=2\n"
        "#SBATCH --ntasks-per-node=1\n"
        "#SBATCH --output=slurm-%j.out\n"
        "set -eu\n"
        # A port of the job's own, so that two such jobs never meet each other.
        'srun python3 tcp_barrier.py "$((20000 + SLURM_JOB_ID % 20000))"\n'
    )
    submission = subprocess.run(["sbatch", "--wait", "--parsable", f"--chdir={slurm_workdir}", str(script)],
                                capture_output=True, text=True, timeout=GENEROUS_TIMEOUT, check=False)
    job = submission.stdout.strip().split(";", 1)[0]
    output = next(slurm_workdir.glob("slurm-*.out"), None)
    assert submission.returncode == 0, (submission.stderr, output and output.read_text())
    assert slurm_cluster.job_states([job]) == {job: "COMPLETED"}

    results = [json.loads((slurm_workdir / f"barrier-{rank}.json").read_text()) for rank in (0, 1)]
    master, worker = results
    assert [r["rank"] for r in results] == [0, 1]
    # One task on each node, both with the same master: the first of the job's hosts.
    assert sorted(r["node"] for r in results) == sorted(two_slurm_nodes)
    # As on a real cluster, a node's host name is its name.
    assert [r["hostname"] for r in results] == [r["node"] for r in results]
    assert master["master"] == worker["master"] == master["node"]
    # Both saw the whole rendezvous.
    assert master["arrived"] == worker["arrived"]
    assert [a["rank"] for a in master["arrived"]] == [0, 1]
    # The worker's connection came from its own node's address, not the
    # master's: the two tasks really ran behind different network interfaces.
    seen_from = master["arrived"][1]["seen_from"]
    assert seen_from == socket.gethostbyname(worker["node"])
    assert seen_from != socket.gethostbyname(master["node"])
