"""examples/slurm/shipped.mlx on the real Slurm test cluster: project
scripts and an input file shipped to the cluster's scratch and run there by
the job; then one script changed, and a second run sends that file alone
(the other keeps its inode) and runs the job again with it.

The example is copied into a project folder of the test's own, so that the
change never touches the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_scenario import EXAMPLES, Scenario, job_names, jobs_in

pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("e2e_shipped")]

EXPERIMENT = "slurm_shipped"
CHANGED_REPORT = '"""Reports differently."""\n\n\ndef line(count: int) -> str:\n    return f"count={count}"\n'


@dataclass(frozen=True)
class ShippedRuns:
    scenario: Scenario
    first: subprocess.CompletedProcess[str]
    total_first: str
    inodes_first: dict[str, int]
    second: subprocess.CompletedProcess[str]
    total_second: str
    inodes_second: dict[str, int]
    jobs: dict[str, dict[str, str]]


def _inodes(root: Path) -> dict[str, int]:
    return {name: os.stat(root / "shipped" / name).st_ino for name in ("count.py", "report.py", "words.txt")}


def _project(folder: Path) -> Path:
    shutil.copy(EXAMPLES / "shipped.mlx", folder)
    shutil.copytree(EXAMPLES / "sites", folder / "sites")
    shutil.copytree(EXAMPLES / "shipped", folder / "shipped")
    return folder / "shipped.mlx"


@pytest.fixture(scope="module")
def shipped(slurm_cluster, tmp_path_factory) -> ShippedRuns:
    project = tmp_path_factory.mktemp("project")
    scenario = Scenario(example=_project(project), out=tmp_path_factory.mktemp(EXPERIMENT), experiment=EXPERIMENT,
                        scratch=slurm_cluster.workdir())
    root = scenario.work_root
    try:
        first = scenario.mlc("run")
        total_first = (root / "total.txt").read_text() if (root / "total.txt").exists() else ""
        inodes_first = _inodes(root) if first.returncode == 0 else {}
        (project / "shipped/report.py").write_text(CHANGED_REPORT)
        second = scenario.mlc("run")
        yield ShippedRuns(
            scenario=scenario, first=first, total_first=total_first, inodes_first=inodes_first, second=second,
            total_second=(root / "total.txt").read_text() if (root / "total.txt").exists() else "",
            inodes_second=_inodes(root) if second.returncode == 0 else {},
            jobs=jobs_in(slurm_cluster.jobcomp_log, root),
        )
    finally:
        scenario.clean_up(slurm_cluster)


def test_the_job_runs_the_shipped_script_on_the_cluster(shipped):
    assert shipped.first.returncode == 0, shipped.first.stdout + shipped.first.stderr
    assert shipped.total_first == "words=4\n"
    root = shipped.scenario.work_root / "shipped"
    for name in ("count.py", "report.py", "words.txt"):  # copies in the scratch, not links to the project
        assert (root / name).is_file() and not (root / name).is_symlink()


def test_a_changed_script_is_shipped_again_alone_and_the_job_reruns_with_it(shipped):
    assert shipped.second.returncode == 0, shipped.second.stdout + shipped.second.stderr
    assert shipped.total_second == "count=4\n"
    assert shipped.inodes_second["count.py"] == shipped.inodes_first["count.py"]
    assert shipped.inodes_second["words.txt"] == shipped.inodes_first["words.txt"]
    assert shipped.inodes_second["report.py"] != shipped.inodes_first["report.py"]
    started = [line for line in shipped.second.stdout.splitlines() if " started " in line]
    assert any("ship shipped/report.py to cluster" in line for line in started), shipped.second.stdout
    assert not any("ship shipped/count.py" in line or "ship shipped/words.txt" in line for line in started)
    assert job_names(shipped.jobs) == ["slurm_shipped-count", "slurm_shipped-count"]
