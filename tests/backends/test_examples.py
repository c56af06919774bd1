"""The examples, compiled through the real front end and placement: the
quickstart runs for real on the local site (what `mlc run
examples/quickstart.mlx` relies on); rtmdet's Slurm, Kubernetes and transfer
artifacts pass the tools."""

from __future__ import annotations

from pathlib import Path

import checks

from compiler import frontend, placement
from compiler.backends import compile_to, emit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _compile(name: str):
    experiment, diagnostics, _ = frontend.load(str(EXAMPLES / f"{name}.mlx"), {})
    assert experiment is not None, [d.message for d in diagnostics.items]
    return experiment, placement.place(experiment)


def test_quickstart_compiles_and_runs(tmp_path):
    experiment, plan = _compile("quickstart")
    folder = tmp_path / experiment.name
    compile_to(experiment, plan, folder)
    assert compile_to(experiment, plan, folder, check=True) == []
    checks.snakemake(folder, "--cores", "2")
    slope, error = (folder / "work/laptop/best.txt").read_text().split()
    assert slope == "3.0" and float(error) < 1.0


def test_rtmdet_artifacts_pass_the_tools(tmp_path):
    experiment, plan = _compile("rtmdet")
    files = emit(experiment, plan)
    folder = checks.write(files, tmp_path / experiment.name)
    checks.assert_scripts_clean(folder, files)
    assert checks.lint_advice(folder) <= checks.ACCEPTED_LINT
    jobs = checks.dry_run_jobs(folder)
    rules = files["Snakefile"].count("\nrule ")
    assert sum(jobs.values()) == rules and "all" in jobs
    assert any(path.startswith("slurm/charisma/") for path in files)
    assert any(path.startswith("k8s/cloud/") for path in files)
