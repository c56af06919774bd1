"""A sweep whose members read per-member inputs (`train[lr = lr].ckpt`) is
still one Slurm job array and one Kubernetes Indexed Job per (stage, pool):
the grouping does not depend on the inputs, while the Snakefile waits for
each member's own producer. The whole generated folder is also compared
with tests/backends/golden/permember/ (MLC_UPDATE_GOLDEN=1 to accept a
change, then review the diff)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from compiler.backends import emit
from compiler.diagnostics import render_text
from compiler.frontend import load
from compiler.placement import place

GOLDEN = Path(__file__).parent / "golden" / "permember"
_PICTURES = {"gantt.svg", "graph.svg", "graph.mmd"}

SOURCE = """\
experiment permember { description = "per-member inputs across Slurm and Kubernetes" }

site hpc : slurm {
  login = "login.hpc.example"
  partition gpu { nodes = 2; cpus = 48; memory = 384GiB; gpus = 4 x a100; max_time = 24h }
}
site cloud : kubernetes {
  context = "ctx"; namespace = "ml"; staging = "s3://staging/mlc"
  pool cpu { nodes = 4; cpus = 16; memory = 64GiB; price = 0.5/h }
}
link hpc <-> cloud { bandwidth = 1Gbps; latency = 5ms }

stage train for lr in [0.1, 0.01, 0.001], bs in [16, 32] {
  out ckpt = file("train/${lr}/${bs}/model.pt", size = 10MB)
  gpus = 1; time = 2h; estimate = 1h
  on = hpc.gpu
  run = "python train.py --lr ${lr} --bs ${bs} --out ${out.ckpt}"
}

stage eval for lr in [0.1, 0.01, 0.001], bs in [16, 32] {
  in ckpt = train[lr = lr, bs = bs].ckpt
  out score = file("eval/${lr}/${bs}.json", size = 1KB)
  time = 20m; estimate = 5m
  on = cloud.cpu
  run = "python eval.py ${in.ckpt} > ${out.score}"
}

stage best for (lr, note) in zip([0.1, 0.01, 0.001], ["high", "mid", "low"]) {
  in scores = eval[lr = lr].score
  out pick = file("best/${note}.json", size = 1KB)
  time = 10m; estimate = 1m
  on = hpc.gpu
  run = "python pick.py ${in.scores} > ${out.pick}"
}
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("permember")
    (folder / "permember.mlx").write_text(SOURCE, encoding="utf-8")
    here = os.getcwd()
    os.chdir(folder)  # positions in the output name the file as given: relative, the same on every run
    try:
        experiment, diags, sources = load("permember.mlx")
        assert experiment is not None, render_text(diags.sorted(), sources)
        return experiment, emit(experiment, place(experiment))
    finally:
        os.chdir(here)


def test_one_array_and_one_indexed_job_per_stage_and_pool(compiled):
    _, files = compiled
    sbatch = sorted(p for p in files if p.startswith("slurm/") and p.endswith(".sbatch"))
    assert [Path(p).name.split(".")[0] for p in sbatch] == ["best", "train"], sbatch
    assert "#SBATCH --array=0-5" in files[next(p for p in sbatch if "train" in p)]
    assert "#SBATCH --array=0-2" in files[next(p for p in sbatch if "best" in p)]
    jobs = [text for p, text in files.items() if p.startswith("k8s/") and "kind: Job" in text
            and "completionMode: Indexed" in text]
    assert len(jobs) == 1 and "completions: 6" in jobs[0]


def test_each_member_reads_its_own_producers_and_each_output_moves_once(compiled):
    """An array's rule waits for the union of its members' inputs (Slurm and
    Kubernetes start the members together); the IR keeps one edge per
    selected member, and each output crosses between sites once."""
    experiment, files = compiled
    for inst in experiment.instances:
        if inst.stage == "train":
            continue
        producers = sorted(p for inp in inst.inputs for p, _ in inp.outputs)
        assert len(producers) == (1 if inst.stage == "eval" else 2), inst.id
        assert all(f"[lr={inst.sweep['lr']}," in p for p in producers), (inst.id, producers)
    moved = sorted(p for p in files if p.startswith("transfers/"))
    assert len(moved) == 6 + 6  # each training's checkpoint to cloud, each score back to hpc
    eval_rule = files["Snakefile"].split("\nrule eval:")[1].split("\nrule ")[0]
    assert eval_rule.count(".mlc/done/to_cloud__train_") == 6


def test_the_generated_folder_matches_the_golden(compiled):
    _, emitted = compiled
    files = {path: text for path, text in emitted.items() if path not in _PICTURES}
    if os.environ.get("MLC_UPDATE_GOLDEN") == "1":
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for path, text in files.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_text(text, encoding="utf-8")
    expected = {str(p.relative_to(GOLDEN)): p.read_text(encoding="utf-8")
                for p in sorted(GOLDEN.rglob("*")) if p.is_file()}
    assert sorted(files) == sorted(expected), "files added or removed (MLC_UPDATE_GOLDEN=1 to accept)"
    for path in sorted(files):
        assert files[path] == expected[path], f"permember/{path} differs (MLC_UPDATE_GOLDEN=1 to accept)"
