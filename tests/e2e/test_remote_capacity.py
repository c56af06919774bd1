"""Waiting for a Slurm job holds no local core (issue 16, item 1):
examples/slurm/sweep.mlx with `--cores 1` still has its two independent
jobs (the array and the GPU job) in flight at once. Both steps' progress
records (written "started" when a step starts, left alone when it
succeeds) are older than both done flags (touched when a step ends): run
one after the other, the second step would start only after the first
ended. (The job records are appended to when watching ends, so their times
say nothing about submission.)"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("e2e_remote_capacity")]

EXAMPLE = "sweep.mlx"
EXPERIMENT = "slurm_sweep"
INDEPENDENT = ("square", "gpu_probe")


def test_independent_slurm_jobs_run_together_with_one_core(scenario):
    run = scenario.mlc("run", extra=("--cores", "1"))
    assert run.returncode == 0, run.stdout + run.stderr
    mlc = scenario.folder / ".mlc"
    started = max((mlc / "steps" / rule).stat().st_mtime_ns for rule in INDEPENDENT)
    first_done = min((mlc / "done" / rule).stat().st_mtime_ns for rule in INDEPENDENT)
    assert started < first_done, "with --cores 1 the independent Slurm jobs ran one after the other"
