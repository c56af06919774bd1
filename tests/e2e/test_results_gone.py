"""Completion is the data on the real Slurm test cluster too: after a run of
examples/slurm/mixed.mlx, the Slurm stage's result is deleted from the
cluster's work root; the next `mlc run` asks the cluster once which results
exist, and runs exactly that stage and what follows it. (Written for the
lead to run: marked `slurm`.)"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("e2e_results_gone")]

EXAMPLE = "mixed.mlx"
EXPERIMENT = "slurm_mixed"
PARAMS = ("words=4",)


def test_a_result_deleted_on_the_cluster_runs_its_step_and_dependants_again(scenario):
    first = scenario.mlc("run")
    assert first.returncode == 0, first.stdout + first.stderr
    (scenario.work_root / "counts/words.txt").unlink()

    again = scenario.mlc("run")
    assert again.returncode == 0, again.stdout + again.stderr
    started = {line.split("started  ", 1)[1].split(" (again", 1)[0]
               for line in again.stdout.splitlines() if "started  " in line}
    assert started == {"stage count on Slurm cluster.cpu", "move count.counts from cluster to here",
                       "report on the local site here"}, again.stdout
    assert "cluster:counts/words.txt is gone" in again.stdout
    assert (scenario.work_root / "counts/words.txt").exists()
