"""The generated Slurm workflow on the real single-node cluster of
.ci/slurm-up (docs/slurm-test-cluster.md): the example sweep runs to the end,
and a failing array task fails its rule with the task's log shown.
Skipped without a cluster, unless MLC_REQUIRE_SLURM=1."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import builders
import checks
import pytest

from compiler import frontend, ir, placement
from compiler.backends import compile_to, emit

pytestmark = pytest.mark.slurm
SCRATCH = Path(os.environ.get("MLC_SLURM_SCRATCH", "/tmp/mlc-slurm-scratch"))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def scratch():
    """A fresh work root on the cluster's scratch, or a skip without a cluster."""
    up = shutil.which("sinfo") and subprocess.run(["sinfo"], capture_output=True, timeout=10, check=False).returncode == 0
    if not up or not SCRATCH.is_dir():
        if os.environ.get("MLC_REQUIRE_SLURM") == "1":
            pytest.fail("no Slurm cluster: run .ci/slurm-up")
        pytest.skip("no Slurm cluster: run .ci/slurm-up")
    root = Path(tempfile.mkdtemp(prefix="backends-", dir=SCRATCH))
    root.chmod(0o777)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_example_sweep_runs_on_the_cluster(scratch, tmp_path):
    experiment, diagnostics, _ = frontend.load(str(EXAMPLES / "slurm/sweep.mlx"), {"scratch": str(scratch)})
    assert experiment is not None, [d.message for d in diagnostics.items]
    folder = tmp_path / experiment.name
    compile_to(experiment, placement.place(experiment), folder)
    checks.snakemake(folder, "--cores", "2")
    total = (scratch / experiment.name / "total.txt").read_text().splitlines()
    assert total[:3] == [f"n={n} square={n * n} task={n - 1}" for n in (1, 2, 3)]
    assert total[3].startswith("partition=gpu gpus=1")
    assert (folder / ".mlc/jobs/square").read_text().startswith("kind=slurm\nsite=cluster\nid=")


def test_a_failing_array_task_fails_its_rule_with_its_log(scratch, tmp_path):
    members = [
        builders.instance(
            f"step[k={k}]", [builders.text(f"echo task {k} here; exit {k}")], stage="step", index=k, sweep={"k": k},
        )
        for k in (0, 1)
    ]
    hpc = builders.slurm_site(login=None)
    hpc = hpc.model_copy(update={"slurm": hpc.slurm.model_copy(update={"scratch": str(scratch)})})
    stages = [ir.StageGroup(name="step", instances=[m.id for m in members], sweep_axes=["k"], span=builders.span())]
    exp = builders.experiment("failing", [hpc], members, stages)
    folder = checks.write(emit(exp, builders.plan(exp, {m.id: "hpc.cpu" for m in members})), tmp_path / "failing")
    result = checks.snakemake(folder, check=False)
    assert result.returncode != 0
    log = (folder / ".mlc/logs/step.log").read_text()
    assert "(step.sbatch) failed with status 1" in log
    assert "_1.out <==\ntask 1 here" in log
    assert not (folder / ".mlc/done/step").exists()
