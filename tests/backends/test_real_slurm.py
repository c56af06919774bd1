"""The generated Slurm workflow on the real two-node cluster of
.ci/slurm-up (docs/slurm-test-cluster.md): the example sweep runs to the end,
and a failing array task fails its rule with the task's log shown.
Skipped without a cluster, unless MLC_REQUIRE_SLURM=1."""

from __future__ import annotations

import re

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import builders
import checks
import pytest

from compiler import frontend, ir, placement
from compiler.backends import compile_to, emit
from tests.slurm.cluster import GENEROUS_TIMEOUT, cancel_jobs_under

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
    cancel_jobs_under(root)  # whatever happened: the next test finds the node free
    shutil.rmtree(root, ignore_errors=True)


def _snakemake(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Snakemake in the folder, waited for as long as its jobs take (up to
    GENEROUS_TIMEOUT); past that, interrupted as Ctrl-C would (each submit
    script then cancels its job)."""
    command = ["snakemake", "--cores", "2", *args]
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=GENEROUS_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=120)
        pytest.fail(f"snakemake did not end within {GENEROUS_TIMEOUT:.0f} s:\n{out}{err}")
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def test_example_sweep_runs_on_the_cluster(scratch, tmp_path):
    experiment, diagnostics, _ = frontend.load(str(EXAMPLES / "slurm/sweep.mlx"), {"scratch": str(scratch)})
    assert experiment is not None, [d.message for d in diagnostics.items]
    folder = tmp_path / experiment.name
    compile_to(experiment, placement.place(experiment), folder)
    result = _snakemake(folder)
    assert result.returncode == 0, result.stdout + result.stderr
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
    result = _snakemake(folder)
    assert result.returncode != 0
    log = (folder / ".mlc/logs/step.log").read_text()
    assert "(step.sbatch) failed with status 1" in log
    # The tail of the failed task's log: the result cache's line, then the command's output.
    assert re.search(r"_1\.out <==\n(mlc-cache: [^\n]*\n)?task 1 here", log), log
    assert not (folder / ".mlc/done/step").exists()


_CHECKPOINT_STAGE = """
import "sites/testcluster.mlx"
experiment envopts_signal { description = "a checkpoint signal before the time limit" }
stage train {
  on = cluster.cpu
  cpus = 1
  memory = 256MiB
  time = 3m
  estimate = 1m
  requeue = false
  signal = USR1(before = 150s)
  sbatch = ["--comment=mlc-envopts"]
  setup = "echo set up > setup.txt"
  out ckpt = file("ckpt.txt", size = 1KB)
  run = "trap 'echo checkpoint > ${out.ckpt}; exit 0' USR1; sleep 170 & wait"
}
"""


def test_the_time_limit_signal_reaches_the_command(scratch, tmp_path):
    """Issue 12.4: --signal=B:USR1@150 reaches the batch shell well before
    the 3-minute limit (Slurm checks about once a minute), which passes it on
    to the command; the command checkpoints and ends, and the job succeeds."""
    (tmp_path / "sites").mkdir()
    shutil.copy(EXAMPLES / "slurm/sites/testcluster.mlx", tmp_path / "sites")
    (tmp_path / "exp.mlx").write_text(_CHECKPOINT_STAGE)
    experiment, diagnostics, _ = frontend.load(str(tmp_path / "exp.mlx"), {"scratch": str(scratch)})
    assert experiment is not None, [d.message for d in diagnostics.items]
    folder = tmp_path / experiment.name
    compile_to(experiment, placement.place(experiment), folder)
    result = _snakemake(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    root = scratch / experiment.name
    assert (root / "ckpt.txt").read_text() == "checkpoint\n"
    assert (root / "setup.txt").read_text() == "set up\n"
