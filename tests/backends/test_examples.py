"""The examples, compiled through the real front end and placement: the
quickstart runs for real on the local site (what `mlc run
examples/quickstart.mlx` relies on); rtmdet's Slurm, Kubernetes and transfer
artifacts pass the tools."""

from __future__ import annotations

from pathlib import Path

import checks
import yaml
from kubernetes_validate import validate

from compiler import frontend, placement
from compiler.backends import compile_to, emit, shipping

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
    shipping.record_project(experiment, plan, str(folder))  # its code is shipped: the Snakefile reads where from
    checks.assert_scripts_clean(folder, files)
    assert checks.lint_advice(folder) <= checks.ACCEPTED_LINT
    jobs = checks.dry_run_jobs(folder)
    rules = files["Snakefile"].count("\nrule ")
    assert sum(jobs.values()) == rules and "all" in jobs
    assert any(path.startswith("slurm/charisma/") for path in files)
    assert any(path.startswith("k8s/cloud/") for path in files)


def test_distributed_runs_in_the_cluster_shape_or_falls_back_to_the_cloud_shape(tmp_path):
    """examples/distributed.mlx: 2 nodes x 4 A100 with torchrun on the cluster;
    without the cluster's GPU partition, placement takes the cloud shape and
    the Indexed Job asks for exactly it. Both sets of artifacts pass the tools."""
    experiment, plan = _compile("distributed")
    train = plan.where("train")
    assert (train.site, train.pool, train.shape) == ("charisma", "gpu", 0)
    files = emit(experiment, plan)
    sbatch = files["slurm/charisma/train.sbatch"]
    assert "#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=1\n" in sbatch and "--gres=gpu:a100:4" in sbatch
    assert "torchrun --nnodes=2 --nproc_per_node=4 " in sbatch
    checks.assert_scripts_clean(checks.write(files, tmp_path / "cluster"), files)

    charisma = experiment.site("charisma")
    without_gpus = charisma.model_copy(update={"pools": [p for p in charisma.pools if p.name != "gpu"]})
    fallback = experiment.model_copy(update={"sites": [without_gpus if s.name == "charisma" else s
                                                       for s in experiment.sites]})
    cloud_plan = placement.place(fallback)
    train = cloud_plan.where("train")
    assert (train.site, train.pool, train.shape) == ("cloud", "gpu", 1)
    assert train.reason.startswith("shape 2 of 2 (2 nodes x 1 x t4, 30h, the first that fits this pool)")
    files = emit(fallback, cloud_plan)
    job = yaml.safe_load(files["k8s/cloud/distributed-train-job.yaml"])
    assert (job["spec"]["completions"], job["spec"]["parallelism"]) == (2, 2)
    limits = job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert (limits["cpu"], limits["memory"], limits["nvidia.com/gpu"]) == ("12", "48Gi", "1")
    assert "torchrun --nnodes=2 --nproc_per_node=1 " in job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    for path in ("k8s/cloud/distributed-train-job.yaml", "k8s/cloud/distributed-train-headless-service.yaml"):
        for version in ("1.29.0", "1.37.0"):
            validate(yaml.safe_load(files[path]), version, strict=True)
    checks.assert_scripts_clean(checks.write(files, tmp_path / "cloud"), files)
