"""examples/slurm/retry_tasks.mlx on the cluster (issue 16, item 4): tasks 1
and 3 of a six-task array fail once; with `retries = 1` only they run
again, as an array of their own indices, and the run succeeds."""

from __future__ import annotations

import pytest
from e2e_scenario import jobs_in

pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("e2e_retry_tasks")]

EXAMPLE = "retry_tasks.mlx"
EXPERIMENT = "slurm_retry_tasks"


def test_only_the_failed_tasks_run_twice(scenario, slurm_cluster):
    run = scenario.mlc("run")
    assert run.returncode == 0, run.stdout + run.stderr
    runs = {i: len((scenario.work_root / "tried" / f"{i}.runs").read_text().splitlines()) for i in range(6)}
    assert runs == {0: 1, 1: 2, 2: 1, 3: 2, 4: 1, 5: 1}
    arrays: dict[str, set[str]] = {}
    for record in jobs_in(slurm_cluster.jobcomp_log, scenario.work_root).values():
        arrays.setdefault(record["ArrayJobId"], set()).add(record["ArrayTaskId"])
    assert sorted(arrays.values(), key=len) == [{"1", "3"}, {"0", "1", "2", "3", "4", "5"}]
    for i in range(6):
        assert (scenario.work_root / "shaky" / f"{i}.txt").read_text() == f"i={i}\n"
