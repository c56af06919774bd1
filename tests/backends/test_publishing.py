"""Publishing outputs (compiler/backends/publishing.py): once written, an
output with `publish = "s3://..."` is copied to object storage by the site
that holds it. Run for real with stand-in `aws`/`gcloud` that record their
argv (and a stand-in ssh for a Slurm login host)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import checks
import pytest
from test_run_workflows import _fake_cluster

from compiler import frontend, placement
from compiler.backends import BackendError, emit

HOSTILE = "it's \"$(touch pwned)\" `id`.txt"
HOSTILE_MLX = HOSTILE.replace('"', '\\"')  # as an .mlx string literal writes it

SOURCE = f"""
site here : local {{ cpus = 2; memory = 4GiB }}
stage train for lr in [0.1, 0.01] {{
  out model = file("models/${{lr}}.txt", publish = "s3://bucket/models/${{lr}}/{HOSTILE_MLX}")
  out curves = dir("curves/${{lr}}", publish = "gs://bucket/curves/${{lr}}")
  run = "echo ${{lr}} > ${{out.model}} && mkdir -p ${{out.curves}} && echo x > ${{out.curves}}/f"
}}
"""

RECORDER = '#!/usr/bin/env bash\nprintf "%s|" "$(basename "$0")" "$@" >> "$FAKE_CALLS"; echo >> "$FAKE_CALLS"\n'


def _load(tmp_path: Path, text: str):
    (tmp_path / "exp.mlx").write_text(textwrap.dedent(text))
    experiment, diags, _ = frontend.load(str(tmp_path / "exp.mlx"), {})
    assert experiment is not None, diags.items
    return experiment, placement.place(experiment)


def _recorders(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    bin_dir = tmp_path / "stores"
    bin_dir.mkdir()
    for name in ("aws", "gcloud"):
        (bin_dir / name).write_text(RECORDER)
        (bin_dir / name).chmod(0o755)
    return {**env, "PATH": f"{bin_dir}:{env['PATH']}", "FAKE_CALLS": str(tmp_path / "calls")}


def _write(files: dict[str, str], folder: Path) -> Path:
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    return folder


def _bash(folder: Path, script: str, env: dict[str, str]) -> None:
    subprocess.run(["bash", script], cwd=folder, env=env, check=True, capture_output=True, text=True, timeout=60)


def test_a_local_output_is_published_from_this_machine_with_the_uri_as_one_word(tmp_path):
    experiment, plan = _load(tmp_path, SOURCE)
    files = emit(experiment, plan)
    folder = _write(files, tmp_path / "out")
    env = _recorders(tmp_path, dict(os.environ))
    for unit in ("train[lr=0.1]", "train[lr=0.01]"):
        _bash(folder, next(p for p in files if p.startswith("local/here/" + unit.replace("]", "").replace("[", "_"))),
              {**env, "MLC_WORKDIR": "work/here"})
    for script in sorted(p for p in files if p.startswith("publish/")):
        _bash(folder, script, env)
    calls = sorted((tmp_path / "calls").read_text().splitlines())
    assert calls == sorted([
        f"aws|s3|cp|--only-show-errors|--|work/here/models/0.1.txt|s3://bucket/models/0.1/{HOSTILE}|",
        f"aws|s3|cp|--only-show-errors|--|work/here/models/0.01.txt|s3://bucket/models/0.01/{HOSTILE}|",
        "gcloud|storage|rsync|--recursive|--|work/here/curves/0.1|gs://bucket/curves/0.1|",
        "gcloud|storage|rsync|--recursive|--|work/here/curves/0.01|gs://bucket/curves/0.01|",
    ])
    assert not list(tmp_path.rglob("pwned"))
    # Each publication waits for the rule that writes its output.
    snakefile = files["Snakefile"]
    rules = [r for r in snakefile.split("\n\n\n") if "# publish train[lr=0.1].model" in r]
    assert len(rules) == 1 and '".mlc/done/train_lr_0_1_' in rules[0]
    checks.assert_scripts_clean(folder, {p: t for p, t in files.items() if p.startswith("publish/")})


SLURM = f"""
site hpc : slurm {{
  login = "login.example"
  scratch = "scratch"
  partition cpu {{ nodes = 1; cpus = 2; memory = 4GiB }}
}}
stage train {{
  out model = file("models/m.txt", publish = "s3://bucket/{HOSTILE_MLX}")
  run = "echo 1 > ${{out.model}}"
}}
"""


def test_a_slurm_output_is_published_by_its_login_host_over_ssh(tmp_path):
    """The copy runs where the data is: the stand-in ssh runs the command in
    a fake home, as sshd would on the login host."""
    experiment, plan = _load(tmp_path, SLURM)
    files = emit(experiment, plan)
    folder = _write(files, tmp_path / "out")
    home = tmp_path / "home"
    (home / "scratch/exp/models").mkdir(parents=True)
    (home / "scratch/exp/models/m.txt").write_text("1\n")
    env = _recorders(tmp_path, {**_fake_cluster(tmp_path), "HOME": str(home)})
    _bash(folder, "publish/train.model.sh", env)
    assert (tmp_path / "calls").read_text() == (
        f"aws|s3|cp|--only-show-errors|--|scratch/exp/models/m.txt|s3://bucket/{HOSTILE}|\n")
    assert not list(tmp_path.rglob("pwned"))


K8S_SOURCE = """
    site cloud : kubernetes { pool cpu { nodes = 1; cpus = 2; memory = 4GiB } }
    stage train {
      out model = file("m.txt", publish = "s3://bucket/m.txt")
      run = "echo 1 > ${out.model}"
    }
    """


def test_a_kubernetes_output_is_published_by_a_job_in_the_cluster_after_its_stage(tmp_path):
    """No publish/ script on the workflow machine: the site's own script
    applies an rclone Job (tests/backends/kubernetes/test_k8s_staging.py runs
    it), as a rule after the stage's."""
    experiment, plan = _load(tmp_path, K8S_SOURCE)
    files = emit(experiment, plan)
    assert not [path for path in files if path.startswith("publish/")]
    assert "k8s/cloud/publish-train.model.sh" in files
    rule = files["Snakefile"].split("rule publish_train_model", 1)[1].split("\nrule ", 1)[0]
    assert '".mlc/done/train",' in rule and 'script="k8s/cloud/publish-train.model.sh"' in rule
    assert "KUBE_NAMESPACE={params.namespace:q}" in rule
    checks.assert_scripts_clean(checks.write(files, tmp_path / "out"), files)


def test_a_site_that_cannot_reach_object_storage_is_refused_at_the_output(tmp_path, monkeypatch):
    # Every kind publishes today: a kind without the feature is played by
    # the Kubernetes kind without it.
    from compiler.sites.base import Feature
    from compiler.sites.kubernetes import Kubernetes

    monkeypatch.setattr(Kubernetes, "features", Kubernetes.features - {Feature.PUBLISHES})
    experiment, plan = _load(tmp_path, K8S_SOURCE)
    with pytest.raises(BackendError) as raised:
        emit(experiment, plan)
    assert "cannot reach object storage to publish it to s3://bucket/m.txt" in raised.value.message
    assert raised.value.span.line == 4
