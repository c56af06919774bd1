"""examples/slurm/mixed.mlx: a local stage, a Slurm job and a local stage
again in one workflow, with the generated transfers moving the data from
this machine to the cluster's work root and back."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import pytest
from e2e_scenario import jobs_in

# One worker runs the whole module (with --dist loadgroup), so its scenario runs once.
pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("e2e_mixed")]

EXAMPLE = "mixed.mlx"
EXPERIMENT = "slurm_mixed"
PARAMS = ("words=4",)


@dataclass(frozen=True)
class MixedRun:
    run: subprocess.CompletedProcess[str]
    jobs: dict[str, dict[str, str]]
    dry_run_with_other_words: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def mixed(scenario, slurm_cluster) -> MixedRun:
    run = scenario.mlc("run")
    return MixedRun(
        run=run,
        jobs=jobs_in(slurm_cluster.jobcomp_log, scenario.work_root),
        dry_run_with_other_words=scenario.mlc("run", "words=6", extra=("--dry-run",)),
    )


def test_run_succeeds_through_every_step(mixed):
    assert mixed.run.returncode == 0, mixed.run.stdout + mixed.run.stderr
    assert "done: 6 steps" in mixed.run.stdout  # with the result cache's ship step
    for step in ("prepare on the local site here", "move prepare.words from here to cluster",
                 "stage count on Slurm cluster.cpu", "move count.counts from cluster to here",
                 "report on the local site here"):
        assert f"done     {step}" in mixed.run.stdout


def test_only_the_slurm_stage_ran_on_slurm(mixed, slurm_cluster):
    assert [r["Name"] for r in mixed.jobs.values()] == ["slurm_mixed-count"]
    assert slurm_cluster.job_states(list(mixed.jobs)) == {key: "COMPLETED" for key in mixed.jobs}


def test_local_data_reached_the_cluster(mixed, scenario):
    sent = (scenario.work_root / "data/words.txt").read_text()
    assert sent == (scenario.local_tree / "data/words.txt").read_text() == "word-1\nword-2\nword-3\nword-4\n"


def test_slurm_result_came_back_and_was_reported_locally(mixed, scenario):
    (job,) = mixed.jobs
    counts = f"lines=4 job={job}\n"
    assert (scenario.work_root / "counts/words.txt").read_text() == counts
    assert (scenario.local_tree / "counts/words.txt").read_text() == counts
    assert (scenario.local_tree / "report.txt").read_text() == "counted on Slurm:\n" + counts


def test_dry_run_after_a_param_change_lists_the_changed_step_and_all_after_it(mixed):
    """`words` changes only the script of `prepare`, which finished: Snakemake
    reruns it and everything downstream, and the dry run says so."""
    dry_run = mixed.dry_run_with_other_words
    assert dry_run.returncode == 0, dry_run.stderr
    lines = dry_run.stdout.splitlines()
    # The result cache's ship step stays done: its copy did not change.
    assert lines[0].endswith("1 of 6 steps done; would run:"), dry_run.stdout + dry_run.stderr
    assert [line.strip() for line in lines[1:]] == [
        "prepare on the local site here",
        "move prepare.words from here to cluster",
        "stage count on Slurm cluster.cpu",
        "move count.counts from cluster to here",
        "report on the local site here",
    ]
