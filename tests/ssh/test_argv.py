"""compiler.transport.ssh without a server: what it refuses, the shape of
the argv lists, and the remote scripts' hygiene. (What the lists do is in
test_transport.py, against the real server.)"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from compiler.transport import ssh


def test_values_that_cannot_be_passed_are_refused():
    target = ssh.SshHost(host="h", control_dir=Path("/tmp/x"))
    with pytest.raises(ValueError, match="NUL"):
        ssh.run_argv(target, ["echo", "a\0b"], "/tmp")
    with pytest.raises(ValueError, match="environment variable name"):
        ssh.run_argv(target, ["true"], "/tmp", {"A-B": "x"})
    with pytest.raises(ValueError, match="empty command"):
        ssh.run_argv(target, [], "/tmp")
    for bad in ["", "-oProxyCommand=x", "a b", "a\nb"]:
        with pytest.raises(ValueError, match="not an ssh host"):
            ssh.SshHost(host=bad, control_dir=Path("/tmp/x"))


def test_the_remote_line_is_one_word_after_the_host():
    target = ssh.SshHost(host="h", control_dir=Path("/tmp/x"))
    argv = ssh.run_argv(target, ["printf", "%s", "a b"], "/w d")
    assert argv[-3:-1] == ["--", "h"]
    # The remote shell's view of it: bash -c SCRIPT mlc-ssh WORKDIR -- ARGV.
    words = shlex.split(argv[-1])
    assert words[:2] == ["bash", "-c"] and words[3:] == ["mlc-ssh", "/w d", "--", "printf", "%s", "a b"]


@pytest.mark.parametrize("name", ["_RUN", "_START", "_STATUS", "_STOP"])
def test_the_remote_scripts_pass_shellcheck(name, tmp_path):
    script = tmp_path / f"{name}.sh"
    script.write_text("#!/usr/bin/env bash\n" + getattr(ssh, name))
    result = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_ssh_options_quote_the_control_path_for_ssh():
    target = ssh.SshHost(host="h", control_dir=Path('/tmp/a %h "b"'))
    socket = str(ssh.control_path(target))
    assert socket.startswith('/tmp/a %h "b"/')
    # ssh reads `-o` as a config line: quoted, `%` doubled (not a token).
    assert 'ControlPath="/tmp/a %%h \\"b\\"/' + socket.rsplit("/", 1)[1] + '"' in ssh.ssh_options(target)


@pytest.mark.parametrize("script", ["sshd-up", "sshd-down", "sshd-lib.sh", "install-system", "test"])
def test_the_ci_scripts_pass_shellcheck(script):
    ci = Path(__file__).resolve().parents[2] / ".ci"
    result = subprocess.run(["shellcheck", "-x", str(ci / script)], capture_output=True, text=True,
                            cwd=ci.parent, check=False)
    assert result.returncode == 0, result.stdout
