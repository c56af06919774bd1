"""The result cache on the real Slurm test cluster (.ci/slurm-up): the step
cache is shipped to the work root once and every task of a job array runs
through it there. base=10, then 3, then 10 again: the third run re-uses
every step of the first and runs no command; a result deleted on the cluster
is linked back from the cluster's cache without running its command; `mlc
run` says so for the Slurm steps as for local ones; `mlc clean` removes on
the cluster the results no visible path shows (base=3's), and only those.

Each command appends a line to ran.log in the work root when it really
runs, so the test counts commands, not jobs. Every job is cancelled at the
end, whatever happened."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.e2e_scenario import Scenario

pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("cache_slurm")]

EXPERIMENT = "slurm_cached"
SOURCE = textwrap.dedent("""\
    import "sites/testcluster.mlx"

    experiment slurm_cached {
      description = "Numbers from a base on the cluster, merged"
    }

    param base: int = 10

    stage gen for i in [1, 2] {
      out num = file("nums/${i}.txt", size = 1KB)
      cpus = 1
      memory = 128MiB
      time = 2m
      estimate = 1s
      on = cluster.cpu
      run = "echo ${base} ${i} > ${out.num} && echo gen-${i} >> ran.log"
    }

    stage merge {
      in nums = gen.num
      out merged = file("merged.txt", size = 1KB)
      cpus = 1
      memory = 128MiB
      time = 2m
      estimate = 1s
      on = cluster.cpu
      run = "cat ${in.nums} > ${out.merged} && echo merge >> ran.log"
    }
""")


def _commands(root: Path) -> list[str]:
    log = root / "ran.log"
    return sorted(log.read_text().split()) if log.exists() else []


def _ok(result) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def scenario(slurm_cluster, tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "examples/slurm/sites", project / "sites")
    (project / "cached.mlx").write_text(SOURCE)
    scenario = Scenario(example=project / "cached.mlx", out=tmp_path_factory.mktemp(EXPERIMENT),
                        experiment=EXPERIMENT, scratch=slurm_cluster.workdir())
    try:
        yield scenario
    finally:
        scenario.clean_up(slurm_cluster)


def test_going_back_to_a_param_value_reuses_every_slurm_step(scenario):
    root = scenario.work_root
    first = _ok(scenario.mlc("run", "base=10"))
    assert _commands(root) == ["gen-1", "gen-2", "merge"]
    assert "ran: no earlier result of this step in this work tree" in first
    assert (root / ".mlc/step_cache.py").is_file()  # shipped once, into the work root

    second = _ok(scenario.mlc("run", "base=3"))
    assert len(_commands(root)) == 6
    assert (root / "merged.txt").read_text() == "3 1\n3 2\n"
    assert "params: base 10 -> 3" in second
    assert "ship the result cache" not in second  # shipped again only when it changed

    third = _ok(scenario.mlc("run", "base=10"))
    assert len(_commands(root)) == 6, "the third run ran a command"
    assert (root / "merged.txt").read_text() == "10 1\n10 2\n"
    assert "(2 re-used from the cache, 0 ran)" in third  # the array and the single job
    assert "re-used 2 cached results" in third  # the array's two tasks
    assert "re-used cached result" in third  # merge's one

    # A result deleted on the cluster: its step runs again and links it back.
    (root / "merged.txt").unlink()
    again = _ok(scenario.mlc("run", "base=10"))
    assert "(again: cluster:merged.txt is gone)" in again
    assert "done     stage merge on Slurm cluster.cpu" in again and "re-used cached result" in again
    assert len(_commands(root)) == 6
    assert (root / "merged.txt").read_text() == "10 1\n10 2\n"

    # base=3's results are shown nowhere now: `mlc clean` lists them, then
    # removes them on the cluster, and keeps base=10's.
    entries = sorted(p.name for p in (root / ".mlc/cache").iterdir() if len(p.name) == 64)
    assert len(entries) == 6
    listed = _ok(scenario.mlc("clean"))
    assert listed.count("would remove cluster:") == 3 and "base=3" in listed and "base=10" not in listed
    assert sorted(p.name for p in (root / ".mlc/cache").iterdir() if len(p.name) == 64) == entries
    removed = _ok(scenario.mlc("clean", extra=("--delete",)))
    assert "removed 3 cached results" in removed
    assert len([p for p in (root / ".mlc/cache").iterdir() if len(p.name) == 64]) == 3
    assert (root / "merged.txt").read_text() == "10 1\n10 2\n"
