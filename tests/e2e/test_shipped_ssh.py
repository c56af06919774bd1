"""Code shipping over the ssh test server (.ci/sshd-up): project scripts
reach an ssh site's work tree by rsync before its stage runs there, and a
changed script is sent again alone. The host's side is read over ssh only,
as a user of a remote host would."""

from __future__ import annotations

import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ssh, pytest.mark.xdist_group("e2e_shipped_ssh")]

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = "ssh_shipped"
SOURCE = """
experiment ssh_shipped { code = ["tools"] }
param host: str = "mlc-test-ssh"
param config: str = ""
param workdir: str = "mlc-work"
site box : ssh { host = "${host}"; ssh_config = "${config}"; workdir = "${workdir}"; cpus = 2; memory = 2GiB }
stage count {
  in words = file("words.txt")
  out total = file("total.txt")
  on = box
  run = "python3 tools/count.py ${in.words} > ${out.total}"
}
"""


def _remote(server, *argv: str) -> subprocess.CompletedProcess[bytes]:
    return server.shell(" ".join(shlex.quote(word) for word in argv))


def _run(source: Path, out: Path, server, workdir: str) -> subprocess.CompletedProcess[str]:
    params = [f"host={server.alias}", f"config={server.config_file}", f"workdir={workdir}"]
    return subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(out),
                           *(w for p in params for w in ("-p", p))], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)


def test_code_reaches_an_ssh_site_and_a_changed_script_alone_again(ssh_server, tmp_path):
    project = tmp_path / "project"
    (project / "tools").mkdir(parents=True)
    (project / "tools/count.py").write_text("import sys\nfrom fmt import line\nprint(line(len(open(sys.argv[1]).read().split())))\n")
    (project / "tools/fmt.py").write_text("def line(n):\n    return f'words={n}'\n")
    (project / "words.txt").write_text("one two three\n")
    (project / "exp.mlx").write_text(textwrap.dedent(SOURCE))
    made = _remote(ssh_server, "mktemp", "-d", f"{ssh_server.scratch_root}/shipped-XXXXXXXX")
    workdir = made.stdout.decode().strip()
    assert made.returncode == 0 and workdir, made.stderr
    root = f"{workdir}/{EXPERIMENT}"
    try:
        first = _run(project / "exp.mlx", tmp_path / "out", ssh_server, workdir)
        assert first.returncode == 0, first.stdout + first.stderr
        assert _remote(ssh_server, "cat", f"{root}/total.txt").stdout == b"words=3\n"
        inode = _remote(ssh_server, "stat", "-c", "%i", f"{root}/tools/count.py").stdout
        (project / "tools/fmt.py").write_text("def line(n):\n    return f'count={n}'\n")
        second = _run(project / "exp.mlx", tmp_path / "out", ssh_server, workdir)
        assert second.returncode == 0, second.stdout + second.stderr
        assert _remote(ssh_server, "cat", f"{root}/total.txt").stdout == b"count=3\n"
        assert _remote(ssh_server, "stat", "-c", "%i", f"{root}/tools/count.py").stdout == inode
        started = [line for line in second.stdout.splitlines() if " started " in line]
        assert any("ship tools to box" in line for line in started), second.stdout
        assert not any("ship words.txt" in line for line in started)
    finally:
        _remote(ssh_server, "rm", "-rf", "--", workdir)
