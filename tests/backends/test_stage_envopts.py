"""Software environments and Slurm options of a stage (issue 12.3-4): the
scripts tests/backends/envopts/envopts.mlx compiles to, byte for byte, and
what they do when bash runs them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import checks
import pytest

from compiler.cli import main
from tests.conftest import ROOT, update_golden

CASE = Path(__file__).parent / "envopts"
SOURCE = CASE.relative_to(ROOT) / "envopts.mlx"  # relative: the goldens name it
EXPECTED = CASE / "expected"
SCRIPTS = ("slurm/hpc/train.sbatch", "slurm/hpc/evaluate.sbatch", "slurm/hpc/convert.sbatch", "slurm/hpc/images.sh",
           "ssh/box/report.sh", "local/laptop/publish.sh")


def _compile(folder: Path, source: Path = SOURCE) -> dict[str, str]:
    out = folder / "out"
    assert main(["compile", str(source), "-o", str(out)]) == 0
    root = out / source.stem
    return {path: (root / path).read_text(encoding="utf-8") for path in SCRIPTS if (root / path).exists()}


def test_scripts_match_golden(tmp_path, in_root):
    files = _compile(tmp_path)
    if update_golden():
        for path, text in files.items():
            (EXPECTED / path).parent.mkdir(parents=True, exist_ok=True)
            (EXPECTED / path).write_text(text, encoding="utf-8")
    assert sorted(files) == sorted(SCRIPTS)
    for path in SCRIPTS:
        assert files[path] == (EXPECTED / path).read_text(encoding="utf-8"), f"{path} differs"
    checks.assert_scripts_clean(checks.write(files, tmp_path / "lint"), files)


def test_slurm_options_become_directives(tmp_path, in_root):
    train = _compile(tmp_path)["slurm/hpc/train.sbatch"]
    header = [line for line in train.splitlines() if line.startswith("#SBATCH")]
    for directive in ("--constraint=a100&ib", "--exclusive", "--reservation=ml-week", "--requeue",
                      "--signal=B:USR1@300", "--mail-type=END,FAIL", "--mail-user=me@uni.edu", "--contiguous"):
        assert f"#SBATCH {directive}" in header
    evaluate = _compile(tmp_path)["slurm/hpc/evaluate.sbatch"]
    assert "#SBATCH --no-requeue" in evaluate


def test_site_modules_only_where_the_stage_keeps_them(tmp_path, in_root):
    files = _compile(tmp_path)
    assert "module load gcc/12" not in files["slurm/hpc/train.sbatch"]  # site_modules = false
    assert "module load cuda/12.1" in files["slurm/hpc/train.sbatch"]
    evaluate = files["slurm/hpc/evaluate.sbatch"]
    assert evaluate.index("module load gcc/12") < evaluate.index("module load python/3.11")


def _fake_tools(folder: Path) -> dict[str, str]:
    """`module` and `conda` stand-ins that record their arguments, one per line."""
    folder.mkdir(parents=True, exist_ok=True)
    for tool in ("module", "conda"):
        script = folder / tool
        script.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >>"{folder}/{tool}.args"\n')
        script.chmod(0o755)
    return {"PATH": f"{folder}:{os.environ['PATH']}"}


@pytest.mark.skipif(shutil.which("flock") is None, reason="flock (util-linux) is not installed")
def test_conda_file_is_created_once_then_activated(tmp_path):
    """Two runs of the local script: the environment is created by the
    first only, from the file's exact text, and activated by both."""
    source = tmp_path / "src"
    (source / "envs").mkdir(parents=True)
    spec = "name: t\ndependencies:\n  - 'python=3.11'  # $(touch pwned)\n"
    (source / "envs" / "t.yml").write_text(spec)
    (source / "exp.mlx").write_text(
        'site laptop : local { cpus = 2; memory = 2GiB }\n'
        'stage a { conda = "envs/t.yml"; setup = "echo set up >> setup.txt"; run = "echo ran >> ran.txt" }\n')
    assert main(["compile", str(source / "exp.mlx"), "-o", str(tmp_path / "out")]) == 0
    script = tmp_path / "out" / "exp" / "local" / "laptop" / "a.sh"
    env = {**os.environ, **_fake_tools(tmp_path / "bin"), "MLC_WORKDIR": str(tmp_path / "w" / "laptop")}
    fake = tmp_path / "bin" / "conda"
    # `conda env create` makes the prefix; `shell.bash hook` prints nothing.
    fake.write_text(fake.read_text() + 'if [ "$1 $2" = "env create" ]; then mkdir -p "$5"; cp "$7" "$5.seen"; fi\n')
    for _ in range(2):
        subprocess.run(["bash", str(script)], env=env, check=True, capture_output=True, timeout=60)
        # Forget the result cache, so that the second run runs the command again.
        shutil.rmtree(tmp_path / "w" / "laptop" / ".mlc" / "cache", ignore_errors=True)
    calls = (tmp_path / "bin" / "conda.args").read_text().split("\n")
    assert calls.count("create") == 1 and calls.count("activate") == 2
    (seen,) = (tmp_path / "w" / ".mlc-cache" / "conda").glob("*.seen")
    assert seen.read_text() == spec
    work = tmp_path / "w" / "laptop"
    assert (work / "setup.txt").read_text() == "set up\n" * 2 and (work / "ran.txt").read_text() == "ran\n" * 2
    assert not list(tmp_path.rglob("pwned"))


def test_signal_reaches_the_command(tmp_path):
    """The batch shell gets Slurm's signal (B:) and passes it on to the
    command, which checkpoints and ends; the job ends with its status."""
    source = tmp_path / "exp.mlx"
    source.write_text(
        'site hpc : slurm { partition cpu { cpus = 2; memory = 2GiB } }\n'
        'stage a {\n  signal = USR1(before = 5m)\n'
        '  run = "trap \'echo checkpoint > saved.txt; exit 7\' USR1; touch ready; sleep 30 & wait"\n}\n')
    assert main(["compile", str(source), "-o", str(tmp_path / "out")]) == 0
    script = tmp_path / "out" / "exp" / "slurm" / "hpc" / "a.sbatch"
    work = tmp_path / "work"
    (work / ".mlc").mkdir(parents=True)
    # The result cache, where ship/hpc/_step_cache.sh puts it: the signal passes through it.
    shutil.copy(tmp_path / "out" / "exp" / "slurm" / "step_cache.py", work / ".mlc" / "step_cache.py")
    env = {**os.environ, "SLURM_SUBMIT_DIR": str(work), "SLURM_JOB_ID": "1"}
    job = subprocess.Popen(["bash", str(script)], env=env, cwd=work)
    try:
        deadline = time.monotonic() + 30
        while not (work / "ready").exists():
            assert time.monotonic() < deadline and job.poll() is None, "the command never started"
            time.sleep(0.05)
        job.send_signal(signal.SIGUSR1)
        assert job.wait(timeout=30) == 7
    finally:
        job.kill()
    assert (work / "saved.txt").read_text() == "checkpoint\n"
    assert (work / ".mlc" / "status" / "1").read_text() == "7\n"


def test_only_remote_images_are_pulled(tmp_path):
    from compiler.backends import BackendError, slurm_images
    from compiler.ir import Span

    span = Span(file="x.mlx", line=1, column=1, end_line=1, end_column=2)
    assert slurm_images.sif_name("/shared/images/torch.sif", span) is None
    named = slurm_images.sif_name("docker://ghcr.io/org/img:1.0", span)
    assert named.startswith("ghcr.io_org_img_1.0-") and named.endswith(".sif")
    assert named != slurm_images.sif_name("docker://ghcr.io/org/img_1.0", span)  # the hash tells them apart
    with pytest.raises(BackendError):
        slurm_images.sif_name("docker://img:1\nMLC_IMAGES", span)
    source = tmp_path / "exp.mlx"
    source.write_text('site hpc : slurm { partition cpu { cpus = 2; memory = 2GiB } }\n'
                      'stage a { image = "/shared/images/torch.sif"; run = "true" }\n')
    assert main(["compile", str(source), "-o", str(tmp_path / "out")]) == 0
    out = tmp_path / "out" / "exp"
    assert not (out / "slurm" / "hpc" / "images.sh").exists()
    assert "images_hpc" not in (out / "Snakefile").read_text()
    assert "--bind \"$PWD\" /shared/images/torch.sif bash" in (out / "slurm" / "hpc" / "a.sbatch").read_text()
