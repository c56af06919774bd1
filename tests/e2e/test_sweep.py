"""examples/slurm/sweep.mlx on the cluster: a three-task job array, a GPU
job and a fan-in. `mlc run --dry-run` first (it submits nothing), then
`mlc run`, `mlc status`, and a second `mlc run` that submits nothing either."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass

import pytest
from e2e_scenario import job_names, job_record, jobs_in, status_table

# One worker runs the whole module (with --dist loadgroup), so its scenario runs once.
pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("e2e_sweep")]

EXAMPLE = "sweep.mlx"
EXPERIMENT = "slurm_sweep"


@dataclass(frozen=True)
class SweepRun:
    dry_run: subprocess.CompletedProcess[str]
    jobs_after_dry_run: dict[str, dict[str, str]]
    run: subprocess.CompletedProcess[str]
    jobs: dict[str, dict[str, str]]
    status: subprocess.CompletedProcess[str]
    second_run: subprocess.CompletedProcess[str]
    jobs_after_second_run: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def sweep(scenario, slurm_cluster) -> SweepRun:
    log = slurm_cluster.jobcomp_log
    dry_run = scenario.mlc("run", extra=("--dry-run",))
    jobs_after_dry_run = jobs_in(log, scenario.work_root)
    run = scenario.mlc("run")
    jobs = jobs_in(log, scenario.work_root)
    return SweepRun(
        dry_run=dry_run,
        jobs_after_dry_run=jobs_after_dry_run,
        run=run,
        jobs=jobs,
        status=scenario.mlc("status"),
        second_run=scenario.mlc("run"),
        jobs_after_second_run=jobs_in(log, scenario.work_root),
    )


def test_run_succeeds(sweep):
    assert sweep.run.returncode == 0, sweep.run.stdout + sweep.run.stderr
    assert "done: 4 steps" in sweep.run.stdout  # the three stages and the result cache's ship step


def test_every_job_and_array_task_completed(sweep, slurm_cluster):
    assert job_names(sweep.jobs) == [
        "slurm_sweep-gpu_probe",
        "slurm_sweep-square", "slurm_sweep-square", "slurm_sweep-square",
        "slurm_sweep-total",
    ]
    # The same ids through the cluster fixture (completion log or scontrol).
    array_ids = {record.get("ArrayJobId") or record["JobId"] for record in sweep.jobs.values()}
    states = slurm_cluster.job_states(sorted(array_ids))
    assert states == {key: "COMPLETED" for key in sweep.jobs}


def test_sweep_is_one_array_with_an_index_per_member(sweep):
    tasks = {r["ArrayTaskId"]: r for r in sweep.jobs.values() if r["Name"] == "slurm_sweep-square"}
    assert sorted(tasks) == ["0", "1", "2"]
    assert len({r["ArrayJobId"] for r in tasks.values()}) == 1


def test_each_member_wrote_its_own_value(sweep, scenario):
    for task, n in enumerate([1, 2, 3]):
        value = (scenario.work_root / "squares" / f"{n}.txt").read_text()
        assert value == f"n={n} square={n * n} task={task}\n"


def test_gpu_stage_got_one_a100_on_the_gpu_partition(sweep, scenario):
    (probe,) = [r for r in sweep.jobs.values() if r["Name"] == "slurm_sweep-gpu_probe"]
    assert probe["Partition"] == "gpu"
    # The completion log does not record GRES here; the job's own view does.
    script = (scenario.folder / "slurm/cluster/gpu_probe.sbatch").read_text()
    assert "#SBATCH --gres=gpu:a100:1\n" in script
    assert (scenario.work_root / "gpu/devices.txt").read_text() == "partition=gpu gpus=1 devices=0\n"


def test_fan_in_read_every_member_after_they_finished(sweep, scenario):
    assert (scenario.work_root / "total.txt").read_text() == (
        "n=1 square=1 task=0\nn=2 square=4 task=1\nn=3 square=9 task=2\n"
        "partition=gpu gpus=1 devices=0\n"
    )
    (total,) = [r for r in sweep.jobs.values() if r["Name"] == "slurm_sweep-total"]
    upstream = [r for r in sweep.jobs.values() if r["Name"] != "slurm_sweep-total"]
    # ISO timestamps compare as strings; Slurm's clock has one-second steps.
    assert all(r["EndTime"] <= total["StartTime"] for r in upstream)


def test_job_records_name_the_submitted_jobs(sweep, scenario):
    for rule, name in [("square", "slurm_sweep-square"), ("gpu_probe", "slurm_sweep-gpu_probe"),
                       ("total", "slurm_sweep-total")]:
        record = job_record(scenario.folder, rule)
        ids = {r.get("ArrayJobId") or r["JobId"] for r in sweep.jobs.values() if r["Name"] == name}
        digest = hashlib.sha256((scenario.folder / "slurm" / "cluster" / f"{rule}.sbatch").read_bytes()).hexdigest()
        assert record == {"kind": "slurm", "site": "cluster", "id": ids.pop(), "login": "",
                          "root": str(scenario.work_root), "script": digest,
                          "array": "0-2" if rule == "square" else "", "watched": "ended"}


def test_dry_run_lists_every_step_and_submits_nothing(sweep):
    assert sweep.dry_run.returncode == 0, sweep.dry_run.stderr
    lines = sweep.dry_run.stdout.splitlines()
    assert lines[0].endswith("0 of 4 steps done; would run:")
    assert sorted(line.strip() for line in lines[1:]) == [
        "ship the result cache to cluster",
        "stage gpu_probe on Slurm cluster.gpu",
        "stage square on Slurm cluster.cpu",
        "stage total on Slurm cluster.cpu",
    ]
    assert sweep.jobs_after_dry_run == {}


def test_status_shows_every_step_done_with_its_job(sweep):
    assert sweep.status.returncode == 0, sweep.status.stderr
    assert sweep.status.stdout.splitlines()[-1] == "4 of 4 steps done"
    expected = {"ship the result cache to cluster": ("done", "")}
    for stage, partition in [("gpu_probe", "gpu"), ("square", "cpu"), ("total", "cpu")]:
        name = f"slurm_sweep-{stage}"
        (job,) = {r.get("ArrayJobId") or r["JobId"] for r in sweep.jobs.values() if r["Name"] == name}
        expected[f"stage {stage} on Slurm cluster.{partition}"] = ("done", f"slurm job {job}")
    assert status_table(sweep.status.stdout) == expected


def test_second_run_submits_nothing(sweep):
    assert sweep.second_run.returncode == 0, sweep.second_run.stderr
    assert "nothing to do" in sweep.second_run.stdout
    assert sweep.jobs_after_second_run == sweep.jobs
