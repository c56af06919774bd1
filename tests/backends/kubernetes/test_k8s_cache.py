"""A stage pod runs its command through the result cache (runner/
step_cache.py, shipped to /work/.mlc/step_cache.py) when the image has
python3: the pod's own command, as the kubelet hands it to /bin/sh (dash
here), over a work tree standing in for the work volume."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import k8s_builders
import yaml

from compiler.backends import shipping
from compiler.backends.kubernetes import emit_site
from compiler.runner.step_cache import STEP_CACHE_HERE

CACHE_IN_POD = f"/work/{STEP_CACHE_HERE}"


def _job():
    experiment, plan = k8s_builders.sweep_on_cloud(
        ["train"], command=[k8s_builders.text("echo ran >> runs.log && echo hello > "),
                            k8s_builders.port("out", "result")])
    job = yaml.safe_load(emit_site(experiment, plan, "cloud")["k8s/cloud/tiny-train-job.yaml"])
    return experiment, job


def _tree(tmp_path: Path, experiment) -> Path:
    """The work volume as the ship step leaves it: the cache's copy in .mlc/."""
    tree = tmp_path / "volume"
    (tree / ".mlc").mkdir(parents=True)
    (tree / STEP_CACHE_HERE).write_text(shipping.step_cache_text(experiment))
    return tree


def _run(job: dict, index: int, tree: Path, path: str) -> subprocess.CompletedProcess:
    """Member `index`'s pod: the kubelet's `$$` -> `$`, the volume at `tree`."""
    (main,) = job["spec"]["template"]["spec"]["containers"]
    assert main["command"] == ["/bin/sh", "-c"] and main["workingDir"] == "/work"
    script = main["args"][0].replace("$$", "$").replace(CACHE_IN_POD, str(tree / STEP_CACHE_HERE))
    return subprocess.run(["/bin/sh", "-c", script], cwd=tree, capture_output=True, text=True, timeout=60,
                          env={"PATH": path, "JOB_COMPLETION_INDEX": str(index)})


def test_a_pod_with_python3_re_uses_its_members_cached_result(tmp_path: Path):
    experiment, job = _job()
    tree = _tree(tmp_path, experiment)
    first = _run(job, 0, tree, "/usr/bin:/bin")
    assert first.returncode == 0, first.stderr
    assert "mlc-cache: stored" in first.stdout
    other = _run(job, 1, tree, "/usr/bin:/bin")  # the other member: its own recipe, its own result
    assert other.returncode == 0 and "mlc-cache: stored" in other.stdout, other.stderr
    again = _run(job, 0, tree, "/usr/bin:/bin")
    assert again.returncode == 0, again.stderr
    assert "mlc-cache: re-used" in again.stdout
    assert (tree / "runs.log").read_text() == "ran\nran\n"
    assert (tree / "out/0/0.txt").read_text() == (tree / "out/0/1.txt").read_text() == "hello\n"


def test_an_image_without_python3_runs_the_command_uncached(tmp_path: Path):
    experiment, job = _job()
    tree = _tree(tmp_path, experiment)
    bin_dir = tmp_path / "bin"  # an image with bash and coreutils' mkdir, no python3
    bin_dir.mkdir()
    for tool in ("bash", "mkdir"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    for _ in range(2):
        done = _run(job, 0, tree, str(bin_dir))
        assert done.returncode == 0, done.stderr
        assert "mlc-cache" not in done.stdout
    assert (tree / "runs.log").read_text() == "ran\nran\n"
    assert not (tree / ".mlc/cache").exists()


def test_mlc_clean_passes_over_a_kubernetes_sites_cache():
    """`mlc clean` reaches Slurm and ssh work roots, not a work volume (the
    cache goes with the run's directory there): not a site it failed to ask."""
    from compiler.runner import clean

    experiment, _job_manifest = _job()
    assert clean._remote(experiment, "cloud", {"kind": "kubernetes"}, delete=False) is None
    assert clean._remote(experiment, "cloud", {"kind": "no such kind"}, delete=False) == "not reached"
