"""A 2-node stage on the real test cluster (docs/slurm-test-cluster.md; the
second slurmd node): `nodes = 2, launch = srun` compiled and run with
`mlc run`. Each rank runs a tiny TCP barrier in plain Python: rank 0
listens on MLC_MASTER_PORT, rank 1 connects to MLC_MASTER_ADDR, and each
writes what it saw and what its peer told it. Under MLC_REQUIRE_SLURM=1 a
cluster without a 2-node partition fails the test instead of skipping it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.slurm.cluster import GENEROUS_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]

BARRIER = r'''
import json, os, socket, sys, time
rank = int(os.environ["MLC_NODE_RANK"])
master, port = os.environ["MLC_MASTER_ADDR"], int(os.environ["MLC_MASTER_PORT"])
mine = {"rank": rank, "nnodes": os.environ["MLC_NNODES"], "master": master, "port": port,
        "host": os.environ.get("SLURMD_NODENAME", socket.gethostname())}
if rank == 0:
    server = socket.create_server(("", port))
    server.settimeout(120)
    peer, _ = server.accept()
else:
    deadline = time.monotonic() + 120
    while True:
        try:
            peer = socket.create_connection((master, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
with peer:
    peer.sendall(json.dumps(mine).encode() + b"\n")
    theirs = json.loads(peer.makefile().readline())
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
with open(f"{out}/rank{rank}.json", "w") as f:
    json.dump({"me": mine, "peer": theirs}, f)
'''


def two_node_partition() -> str | None:
    """A partition of the cluster with at least two nodes, or None."""
    # One line per partition and node state: the counts of a partition add up.
    listed = subprocess.run(["sinfo", "--noheader", "--format=%R %D"], capture_output=True, text=True, timeout=30)
    nodes: dict[str, int] = {}
    for line in listed.stdout.splitlines():
        name, _, count = line.strip().partition(" ")
        if count.isdigit():
            nodes[name.rstrip("*")] = nodes.get(name.rstrip("*"), 0) + int(count)
    return next((name for name, count in sorted(nodes.items()) if count >= 2), None)


@pytest.fixture
def partition(slurm_cluster) -> str:
    found = two_node_partition()
    if found is None:
        message = "the test cluster has no partition of two nodes (sinfo); the 2-node test needs the second slurmd"
        if os.environ.get("MLC_REQUIRE_SLURM") == "1":
            pytest.fail(f"MLC_REQUIRE_SLURM=1 but {message}", pytrace=False)
        pytest.skip(message)
    return found


def experiment(partition: str, scratch: Path) -> str:
    barrier = textwrap.indent(BARRIER.strip(), "    ")
    return (
        'experiment multinode { description = "Two ranks meet over TCP" }\n'
        "site cluster : slurm {\n"
        f'  scratch = "{scratch}"\n'
        f"  partition {partition} {{ nodes = 2; cpus = 1; memory = 1GiB }}\n"
        "}\n"
        "stage meet {\n"
        '  out ranks = dir("meet")\n'
        "  nodes = 2\n"
        "  launch = srun\n"
        "  cpus = 1\n"
        "  memory = 256MiB\n"
        "  time = 5m\n"
        "  estimate = 10s\n"
        '  run = """\n'
        "    python3 - ${out.ranks} <<'PY'\n"
        f"{barrier}\n"
        "    PY\n"
        '  """\n'
        "}\n"
    )


@pytest.mark.slurm
def test_two_ranks_on_two_nodes_meet_at_the_master(partition, slurm_workdir, tmp_path: Path):
    source = tmp_path / "multinode.mlx"
    source.write_text(experiment(partition, slurm_workdir))
    run = subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(tmp_path / "out")],
                         cwd=ROOT, capture_output=True, text=True, timeout=GENEROUS_TIMEOUT)
    assert run.returncode == 0, run.stdout + run.stderr
    meet = slurm_workdir / "multinode" / "meet"
    seen = {rank: json.loads((meet / f"rank{rank}.json").read_text()) for rank in (0, 1)}
    for rank, record in seen.items():
        me, peer = record["me"], record["peer"]
        assert (me["rank"], peer["rank"]) == (rank, 1 - rank)
        assert me["nnodes"] == peer["nnodes"] == "2"
        assert me["master"] == peer["master"] and me["port"] == peer["port"]
    # Two nodes, not two tasks on one: the nodes differ, and rank 0's is the master.
    assert seen[0]["me"]["host"] != seen[1]["me"]["host"]
    assert seen[0]["me"]["master"] == seen[0]["me"]["host"]


def test_the_compiled_job_asks_for_two_nodes_and_starts_one_task_on_each(tmp_path: Path):
    """What the cluster test runs, checked without a cluster (no `slurm`
    marker: it runs with the rest of the suite)."""
    source = tmp_path / "multinode.mlx"
    source.write_text(experiment("cpu", tmp_path / "scratch"))
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", str(source), "-o", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    script = (tmp_path / "out" / "multinode" / "slurm" / "cluster" / "meet.sbatch").read_text()
    assert "#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=1\n" in script
    assert 'MLC_MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | sed -n 1p)"' in script
    assert 'srun --ntasks-per-node=1 --kill-on-bad-exit=1 bash -eo pipefail -c "$command"' in script
