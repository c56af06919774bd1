"""Fixtures for tests that need the real OpenSSH server of .ci/sshd-up.

`.ci/sshd-up` starts an sshd on 127.0.0.1:2222 that lets root in with a key
made for the tests, and writes /run/mlc-ssh.env (the host alias, the client
config file, the root of the remote scratch dirs); see docs/ssh-test-server.md.
Without a server these tests skip, unless MLC_REQUIRE_SSH=1 (set by CI),
where they fail instead.

The "remote" side is this machine, but the fixtures reach it only over ssh,
as mlc does a real host.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.slurm.cluster import read_env_file

ENV_FILE = Path("/run/mlc-ssh.env")
DEFAULT_ALIAS = "mlc-test-ssh"
DEFAULT_CONFIG = Path("/var/lib/mlc-sshd/client/ssh_config")
DEFAULT_SCRATCH = "/tmp/mlc-ssh-scratch"
# One plain connection (no sharing) for the fixtures' own commands, so that
# they never depend on the multiplexing the tests exercise.
_PLAIN = ["-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "ConnectTimeout=10"]


def _setting(name: str, default: str) -> str:
    return os.environ.get(name) or read_env_file(ENV_FILE).get(name) or default


@dataclass(frozen=True)
class SshServer:
    """The running test server: the alias the client config names, and that config."""

    alias: str
    config_file: Path
    scratch_root: str

    @property
    def options(self) -> list[str]:
        """The ssh options that reach the server (as given to `ssh` before the host)."""
        return ["-F", str(self.config_file)]

    def shell(self, line: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
        """Runs `line` (quoted by the caller for the remote shell) over a
        connection of its own; output as bytes."""
        return subprocess.run(
            ["ssh", *self.options, *_PLAIN, "-T", "-n", "--", self.alias, line],
            capture_output=True,
            timeout=timeout,
            check=False,
        )


@dataclass(frozen=True)
class SshScratch:
    """What `ssh_host` yields: the server, and a fresh directory on its side."""

    server: SshServer
    scratch: str

    @property
    def alias(self) -> str:
        return self.server.alias

    @property
    def options(self) -> list[str]:
        return self.server.options


def _server_answers(server: SshServer) -> str | None:
    """None when a login works, else why not."""
    if not server.config_file.is_file():
        return f"no client config {server.config_file}"
    try:
        result = server.shell("true", timeout=30)
    except FileNotFoundError:
        return "ssh is not installed"
    except subprocess.TimeoutExpired:
        return "no login within 30 s"
    if result.returncode != 0:
        return f"ssh {server.alias} failed: {result.stderr.decode(errors='replace').strip()}"
    return None


@pytest.fixture(scope="session")
def ssh_server() -> SshServer:
    server = SshServer(
        alias=_setting("MLC_SSH_HOST", DEFAULT_ALIAS),
        config_file=Path(_setting("MLC_SSH_CONFIG", str(DEFAULT_CONFIG))),
        scratch_root=_setting("MLC_SSH_SCRATCH", DEFAULT_SCRATCH),
    )
    problem = _server_answers(server)
    if problem is not None:
        message = f"no test ssh server ({problem}); start one with `.ci/sshd-up` (as root)"
        if os.environ.get("MLC_REQUIRE_SSH") == "1":
            pytest.fail(f"MLC_REQUIRE_SSH=1 but {message}", pytrace=False)
        pytest.skip(message)
    return server


@pytest.fixture
def ssh_host(ssh_server):
    """A fresh directory on the server's side for one test; removed
    afterwards whatever the test did (read-only files, a test that failed)."""
    made = ssh_server.shell(f"mktemp -d {shlex.quote(ssh_server.scratch_root)}/test-XXXXXXXX")
    scratch = made.stdout.decode().strip()
    if made.returncode != 0 or not scratch.startswith(ssh_server.scratch_root + "/test-"):
        pytest.fail(f"cannot make a scratch dir over ssh: {made.stderr.decode(errors='replace')}", pytrace=False)
    try:
        yield SshScratch(server=ssh_server, scratch=scratch)
    finally:
        # Give back write permission first: a test may leave read-only dirs.
        quoted = shlex.quote(scratch)
        removed = ssh_server.shell(f"chmod -R u+rwx -- {quoted}; rm -rf -- {quoted} && ! test -e {quoted}")
        if removed.returncode != 0:
            pytest.fail(f"cannot remove the scratch dir {scratch} over ssh: "
                        f"{removed.stderr.decode(errors='replace')}", pytrace=False)
