"""A stage on an ssh site is measured by its step wrapper on the host, as a
local one is here (elapsed, CPU time, max RSS, exit status, the host), and
ssh/driver.py brings the measurement back into the run records, with the
output's size and checksum on the host. Against the real OpenSSH server of
.ci/sshd-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.records import store
from compiler.sites.ssh import driver
from compiler.transport import ssh as transport

pytestmark = pytest.mark.ssh

ROOT = Path(__file__).resolve().parents[2]

SOURCE = """
experiment remote_usage {
  description = "One stage on an ssh host that uses some CPU and memory"
}

site box : ssh {
  host = "%(host)s"
  ssh_config = "%(config)s"
  workdir = "%(workdir)s"
  cpus = 2
  memory = 2GiB
}

stage burn {
  out result = file("result.txt", size = 1KB)
  cpus = 1
  memory = 512MiB
  time = 2m
  estimate = 1s
  run = "python3 -c 'b = bytearray(64 * 1024 * 1024); print(sum(range(3000000)))' > ${out.result}"
}
"""


def test_an_ssh_step_is_recorded_with_what_it_used(ssh_host, tmp_path):
    source = tmp_path / "remote_usage.mlx"
    source.write_text(SOURCE % {"host": ssh_host.alias, "config": ssh_host.server.config_file,
                                "workdir": ssh_host.scratch})
    folder = tmp_path / "out" / "remote_usage"
    try:
        result = subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(source), "-o",
                                 str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    finally:
        shared = driver.host_of(ssh_host.alias, str(ssh_host.server.config_file), folder / driver.CONTROL_DIR)
        subprocess.run(transport.close_master_argv(shared), capture_output=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    (_,), (step,) = store.read(folder)
    assert (step.unit, step.kind, step.site, step.state, step.exit_status) == ("burn", "ssh", "box", "COMPLETED", 0)
    assert 0 < step.elapsed_s < 60 and step.cpu_time_s > 0
    assert step.max_rss_bytes > 64 * 1024**2  # the bytearray, measured on the host
    assert step.start <= step.end
    host = ssh_host.server.shell("hostname").stdout.decode().strip()
    assert json.loads(step.nodes) == [host]
    usage = json.loads((folder / ".mlc/usage/burn.json").read_text())  # copied back by the driver
    assert usage["exit_status"] == 0
    # The output's size and checksum, asked of the host in one query at the end of the run.
    remote = ssh_host.server.shell(f"cd {ssh_host.scratch}/remote_usage && wc -c <result.txt && "
                                   "sha256sum <result.txt").stdout.decode().split()
    assert json.loads(step.outputs) == [{"name": "result", "path": "result.txt", "size": int(remote[0]),
                                         "sha256": remote[1]}]
    assert int(remote[0]) == len(f"{sum(range(3000000))}\n")
