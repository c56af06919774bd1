"""Run records on the real Slurm test cluster (issue 17): after `mlc run`
of examples/slurm/sweep.mlx (a job array, a GPU job, a fan-in), every step
has sacct's numbers in the store, `mlc report` shows them, the next plan
uses the measured times and says so, and the crate records the jobs."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest
from e2e_scenario import ROOT

from compiler.records import store

pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("e2e_records")]

EXAMPLE = "sweep.mlx"
EXPERIMENT = "slurm_sweep"


@dataclass(frozen=True)
class Recorded:
    run: subprocess.CompletedProcess[str]
    steps: list[store.Step]


@pytest.fixture(scope="module")
def recorded(scenario, slurm_cluster) -> Recorded:
    run = scenario.mlc("run", extra=("--no-history",))
    return Recorded(run=run, steps=store.read(scenario.folder)[1])


def test_every_step_has_its_accounting(slurm_accounting, recorded):
    assert recorded.run.returncode == 0, recorded.run.stdout + recorded.run.stderr
    by_unit = {s.unit: s for s in recorded.steps}
    assert sorted(by_unit) == ["gpu_probe", "square[n=1]", "square[n=2]", "square[n=3]", "total"]
    array = {by_unit[f"square[n={n}]"].job_id for n in (1, 2, 3)}
    assert len({job.split("_")[0] for job in array}) == 1 and {job.split("_")[1] for job in array} == {"0", "1", "2"}
    for step in recorded.steps:
        assert (step.kind, step.state, step.exit_status) == ("slurm", "COMPLETED", 0), step
        assert step.start <= step.end and step.queue_wait_s >= 0 and step.elapsed_s >= 0
        assert json.loads(step.nodes) and all(n.startswith("mlc-n") for n in json.loads(step.nodes))
    # the array tasks sleep a second: sacct measured it, with their memory
    assert all(by_unit[f"square[n={n}]"].elapsed_s >= 1 for n in (1, 2, 3))
    assert all(by_unit[f"square[n={n}]"].max_rss_bytes for n in (1, 2, 3))
    assert by_unit["gpu_probe"].pool == "cluster.gpu" and by_unit["gpu_probe"].gpus_asked == 1


def _mlc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_report_shows_real_efficiency(recorded, scenario):
    report = json.loads(_mlc("report", str(scenario.folder), "--format", "json").stdout)
    square = next(g for g in report["groups"] if g["stage"] == "square")
    assert square["runs"] == 3 and square["pool"] == "cluster.cpu"
    assert square["elapsed_median_s"] >= 1 and square["max_rss_bytes"] > 0
    assert any(s.startswith("memory = 256MiB, max used ") for s in square["suggestions"])


def test_the_next_plan_uses_the_measured_times(recorded, scenario):
    plan = _mlc("plan", *scenario.arguments())
    assert plan.returncode == 0, plan.stderr
    assert "median of 1 run on cluster.cpu" in plan.stdout  # square[n=1]'s own run
    assert "median of 1 run on cluster.gpu" in plan.stdout


def test_the_crate_names_the_jobs(recorded, scenario):
    (crate,) = (scenario.folder / ".mlc/runs").iterdir()
    graph = json.loads((crate / "ro-crate-metadata.json").read_text())["@graph"]
    jobs = {e["identifier"] for e in graph if e.get("@type") == "CreateAction" and "identifier" in e}
    assert jobs == {f"slurm job {s.job_id}" for s in recorded.steps}
