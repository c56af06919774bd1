"""The result cache on an ssh host (the test server of .ci/sshd-up): the step
cache is shipped into the host's work root and each stage runs through it
there. base=10, then 3, then 10 again: the third run runs no command; a
result deleted on the host is linked back from the host's cache. The host's
side is read over ssh only, as a user of a remote host would."""

from __future__ import annotations

import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.ssh, pytest.mark.xdist_group("cache_ssh")]

EXPERIMENT = "ssh_cached"
SOURCE = textwrap.dedent("""\
    experiment ssh_cached { description = "Numbers from a base on an ssh host" }
    param base: int = 10
    param host: str = "mlc-test-ssh"
    param config: str = ""
    param workdir: str = "mlc-work"
    site box : ssh { host = "${host}"; ssh_config = "${config}"; workdir = "${workdir}"; cpus = 2; memory = 2GiB }
    stage gen {
      out num = file("num.txt")
      on = box
      run = "echo ${base} > ${out.num} && echo gen >> ran.log"
    }
    stage double {
      in num = gen.num
      out twice = file("twice.txt")
      on = box
      run = "cat ${in.num} ${in.num} > ${out.twice} && echo double >> ran.log"
    }
""")


def _remote(server, *argv: str) -> subprocess.CompletedProcess[bytes]:
    return server.shell(" ".join(shlex.quote(word) for word in argv))


def _run(source: Path, out: Path, server, workdir: str, base: int) -> str:
    params = [f"host={server.alias}", f"config={server.config_file}", f"workdir={workdir}", f"base={base}"]
    result = subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(out),
                             *(w for p in params for w in ("-p", p))], cwd=ROOT, capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_an_ssh_host_reuses_its_cached_results(ssh_server, tmp_path):
    (tmp_path / "exp.mlx").write_text(SOURCE)
    made = _remote(ssh_server, "mktemp", "-d", f"{ssh_server.scratch_root}/cached-XXXXXXXX")
    workdir = made.stdout.decode().strip()
    assert made.returncode == 0 and workdir, made.stderr
    root = f"{workdir}/{EXPERIMENT}"

    def commands() -> list[str]:
        return _remote(ssh_server, "cat", f"{root}/ran.log").stdout.decode().split()

    try:
        first = _run(tmp_path / "exp.mlx", tmp_path / "out", ssh_server, workdir, 10)
        assert commands() == ["gen", "double"]
        assert "ran: no earlier result of this step in this work tree" in first
        _run(tmp_path / "exp.mlx", tmp_path / "out", ssh_server, workdir, 3)
        assert len(commands()) == 4
        third = _run(tmp_path / "exp.mlx", tmp_path / "out", ssh_server, workdir, 10)
        assert len(commands()) == 4, "the third run ran a command"
        assert "(2 re-used from the cache, 0 ran)" in third
        assert _remote(ssh_server, "cat", f"{root}/twice.txt").stdout == b"10\n10\n"

        assert _remote(ssh_server, "rm", "--", f"{root}/twice.txt").returncode == 0
        again = _run(tmp_path / "exp.mlx", tmp_path / "out", ssh_server, workdir, 10)
        assert "(again: box:twice.txt is gone)" in again and "re-used cached result" in again
        assert len(commands()) == 4
        assert _remote(ssh_server, "cat", f"{root}/twice.txt").stdout == b"10\n10\n"

        # base=3's results are shown nowhere now: `mlc clean --delete` removes them on the host.
        params = [f"host={ssh_server.alias}", f"config={ssh_server.config_file}", f"workdir={workdir}"]
        cleaned = subprocess.run([sys.executable, "-m", "compiler.cli", "clean", str(tmp_path / "exp.mlx"), "-o",
                                  str(tmp_path / "out"), "--delete", *(w for p in params for w in ("-p", p))],
                                 cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
        assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
        assert cleaned.stdout.count("removed box:") == 2 and "base=3" in cleaned.stdout
        assert _remote(ssh_server, "cat", f"{root}/twice.txt").stdout == b"10\n10\n"
    finally:
        _remote(ssh_server, "rm", "-rf", "--", workdir)
