"""compiler.transport.ssh against the real OpenSSH server of .ci/sshd-up
(docs/ssh-test-server.md): what the argv lists it builds really do."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.transport import ssh

pytestmark = pytest.mark.ssh

# Values that a shell would mangle if any quoting step were wrong.
HOSTILE = [
    "plain",
    "two words",
    "  leading and trailing  ",
    "",
    "single ' quote",
    'double " quote',
    "'\"'\"'",
    "$(touch /tmp/mlc-ssh-pwned)",
    "`touch /tmp/mlc-ssh-pwned`",
    "${HOME} $HOME $0 $1 $@",
    "line one\nline two\n",
    "\ttab\r\n",
    "-n",
    "--help",
    "-e \\n",
    "back\\slash\\\\",
    "* ? [a-z] ~ ~root",
    "; rm -rf / ; && || | & > < >> 2>&1",
    "#not a comment",
    "ünïcødé ✓ 中文 🙂",
    "%h %p %C %% %r",
    "a=b",
    "--",
]

PWNED = Path("/tmp/mlc-ssh-pwned")


def run(argv: list[str], timeout: float = 60, **kwargs) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, capture_output=True, timeout=timeout, check=False, **kwargs)


def run_ok(argv: list[str], timeout: float = 60, **kwargs) -> subprocess.CompletedProcess[bytes]:
    result = run(argv, timeout, **kwargs)
    assert result.returncode == 0, (argv, result.stdout, result.stderr)
    return result


@pytest.fixture
def host(ssh_host):
    """The test server as mlc's ssh kind would address it, its shared
    connection's socket under the run's .mlc/; the connection is closed after.
    The run dir is a short one in /tmp: pytest's own (under xdist) are too
    long for a socket path, which is tested on its own below."""
    run_dir = Path(tempfile.mkdtemp(prefix="mlc-run-", dir="/tmp"))
    target = ssh.SshHost(
        host=ssh_host.alias,
        control_dir=run_dir / ".mlc" / "ssh",
        config_file=ssh_host.server.config_file,
        connect_timeout=10,
    )
    try:
        ssh.prepare_control_dir(target)
        yield target
    finally:
        run(ssh.close_master_argv(target), timeout=30)
        shutil.rmtree(run_dir, ignore_errors=True)


def nul_separated(output: bytes) -> list[str]:
    assert output.endswith(b"\0"), output
    return [part.decode() for part in output[:-1].split(b"\0")]


# printf '%s\0' of the work dir, one variable and every argument.
ECHO_ARGS = ["bash", "-c", 'printf "%s\\0" "$PWD" "$MLC_VALUE" "$@"', "argv0"]


def test_hostile_values_arrive_byte_for_byte(ssh_host, host):
    PWNED.unlink(missing_ok=True)
    workdir = f"{ssh_host.scratch}/dir 'with' \"quotes\" $(touch {PWNED}) \n ünï -dash"
    value = "env: " + "".join(HOSTILE)
    result = run_ok(ssh.run_argv(host, [*ECHO_ARGS, *HOSTILE], workdir, {"MLC_VALUE": value}))
    assert nul_separated(result.stdout) == [workdir, value, *HOSTILE]
    assert not PWNED.exists()


_VALUE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_VALUE, max_size=5), env_value=_VALUE)
def test_any_text_arrives_byte_for_byte(ssh_host, host, values, env_value):
    result = run_ok(ssh.run_argv(host, [*ECHO_ARGS, *values], ssh_host.scratch, {"MLC_VALUE": env_value}))
    assert nul_separated(result.stdout) == [ssh_host.scratch, env_value, *values]


def test_the_command_s_exit_status_and_stdin_come_back(ssh_host, host):
    assert run(ssh.run_argv(host, ["bash", "-c", "exit 7"], ssh_host.scratch)).returncode == 7
    # stdin is /dev/null unless asked for.
    assert run_ok(ssh.run_argv(host, ["cat"], ssh_host.scratch), input=b"ignored").stdout == b""
    piped = run_ok(ssh.run_argv(host, ["cat"], ssh_host.scratch, keep_stdin=True), input=b"through\n")
    assert piped.stdout == b"through\n"


def test_a_work_dir_that_cannot_be_made_fails_before_the_command(ssh_host, host):
    blocker = f"{ssh_host.scratch}/file"
    run_ok(ssh.run_argv(host, ["touch", blocker], ssh_host.scratch))
    result = run(ssh.run_argv(host, ["touch", f"{ssh_host.scratch}/ran"], f"{blocker}/sub"))
    assert result.returncode == 1
    assert run(ssh.run_argv(host, ["test", "-e", f"{ssh_host.scratch}/ran"], ssh_host.scratch)).returncode == 1


def write_tree(root: Path, names: list[str]) -> None:
    for index, name in enumerate(names):
        (root / name).mkdir(parents=True)
        (root / name / name).write_bytes(f"{index}: {name}\n".encode() + bytes(range(256)))


def tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


FILE_NAMES = [
    "two words",
    "single ' quote",
    'double " quote',
    "$(touch mlc-ssh-pwned)",
    "line\nbreak",
    "-rf",
    "--delete",
    "colon:name",
    "ünïcødé 🙂",
    "back\\slash",
    "*",
]


def test_rsync_both_ways_keeps_hostile_names(ssh_host, host, tmp_path, monkeypatch):
    # A relative source whose name starts with a dash and holds a colon:
    # rsync must take it for neither an option nor host:path.
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "-src:dir 'x'"
    write_tree(source, FILE_NAMES)
    remote = f"{ssh_host.scratch}/to 'there' $(touch {PWNED}) \n -x"
    run_ok(ssh.run_argv(host, ["true"], remote))
    run_ok(ssh.rsync_push_argv(host, ["-src:dir 'x'/"], remote))

    listed = run_ok(ssh.run_argv(host, ["find", ".", "-type", "f", "-print0"], remote))
    assert sorted(nul_separated(listed.stdout)) == sorted(f"./{name}/{name}" for name in FILE_NAMES)

    back = tmp_path / "back 'here'"
    back.mkdir()
    run_ok(ssh.rsync_pull_argv(host, [f"{remote}/"], back))
    assert tree(back) == tree(source)
    assert not PWNED.exists()
    assert not (tmp_path / "mlc-ssh-pwned").exists()


def test_rsync_relative_remote_path_with_leading_dash(ssh_host, host, tmp_path):
    # Relative remote paths are relative to the login directory; a leading
    # dash must not reach the remote rsync as an option. (The one test that
    # writes outside the scratch dir: a dash-named dir in the login dir.)
    relative = f"-mlc-test {os.path.basename(ssh_host.scratch)}"
    (tmp_path / "file").write_text("x")
    try:
        run_ok(ssh.run_argv(host, ["mkdir", "--", relative], "."))
        run_ok(ssh.rsync_push_argv(host, [tmp_path / "file"], relative))
        assert run_ok(ssh.run_argv(host, ["cat", "--", f"{relative}/file"], ".")).stdout == b"x"
        run_ok(ssh.rsync_pull_argv(host, [f"{relative}/file"], tmp_path / "back"))
        assert (tmp_path / "back" / "file").read_text() == "x"
    finally:
        run(ssh.run_argv(host, ["rm", "-rf", "--", relative], "."))


def remote_pids_of_group(host: ssh.SshHost, workdir: str, group: int) -> list[int]:
    listed = run_ok(ssh.run_argv(host, ["ps", "-e", "-o", "pid=,pgid=,stat="], workdir)).stdout.decode()
    return [int(pid) for pid, pgid, stat in (line.split() for line in listed.splitlines())
            if int(pgid) == group and not stat.startswith("Z")]


def read_remote(host: ssh.SshHost, workdir: str, path: str) -> bytes:
    return run_ok(ssh.run_argv(host, ["cat", "--", path], workdir)).stdout


def wait_for(condition, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_background_process_starts_runs_and_stops(ssh_host, host):
    workdir = f"{ssh_host.scratch}/service 'dir'"
    pid_file, log_file = "-svc.pid", "svc $(x).log"
    greeting = "hello 'there' $(touch pwned)\n"
    # The service and a child of its own: stopping must end both.
    command = ["bash", "-c", 'printf "%s" "$GREETING"; sleep 300 & exec sleep 301']
    start = run_ok(ssh.start_background_argv(host, command, workdir, pid_file, log_file, {"GREETING": greeting}),
                   timeout=30)
    assert start.stdout == b""

    pid, started = read_remote(host, workdir, pid_file).decode().split()
    group = int(pid)
    assert started.isdigit()  # the start time that tells a recycled pid apart
    assert run(ssh.status_argv(host, workdir, pid_file)).returncode == 0
    assert wait_for(lambda: len(remote_pids_of_group(host, workdir, group)) == 2)
    assert wait_for(lambda: read_remote(host, workdir, log_file) == greeting.encode())
    # Started twice: refused while it runs.
    again = run(ssh.start_background_argv(host, command, workdir, pid_file, log_file))
    assert again.returncode == 3 and b"already running" in again.stderr

    stopped = run_ok(ssh.stop_background_argv(host, workdir, pid_file), timeout=60)
    # SIGTERM reached the whole group: nothing was left to kill.
    assert b"killing" not in stopped.stderr
    assert remote_pids_of_group(host, workdir, group) == []
    assert run(ssh.status_argv(host, workdir, pid_file)).returncode == 1
    assert run(ssh.run_argv(host, ["test", "-e", pid_file], workdir)).returncode == 1
    # Stopping again (no pid file) is not an error.
    run_ok(ssh.stop_background_argv(host, workdir, pid_file))


def test_a_process_that_ignores_sigterm_is_killed(ssh_host, host):
    workdir = ssh_host.scratch
    command = ["bash", "-c", 'trap "" TERM; : > trapped; sleep 300 & wait']
    run_ok(ssh.start_background_argv(host, command, workdir, "stubborn.pid", "stubborn.log"))
    group = int(read_remote(host, workdir, "stubborn.pid").split()[0])
    # Stopped before bash has run `trap`, it would die of the SIGTERM (seen
    # on a loaded machine): wait until it ignores it.
    assert wait_for(lambda: run(ssh.run_argv(host, ["test", "-e", "trapped"], workdir)).returncode == 0)
    begun = time.monotonic()
    stopped = run_ok(ssh.stop_background_argv(host, workdir, "stubborn.pid", grace=1), timeout=60)
    assert b"ignored SIGTERM for 1 s; killing it" in stopped.stderr
    assert time.monotonic() - begun < 20
    assert remote_pids_of_group(host, workdir, group) == []


def test_stale_pid_files(ssh_host, host):
    workdir = ssh_host.scratch
    # A pid file whose process is gone.
    gone = subprocess.Popen(["true"])
    gone.wait()
    run_ok(ssh.run_argv(host, ["bash", "-c", f'echo "{gone.pid} 1" > stale.pid'], workdir))
    assert run(ssh.status_argv(host, workdir, "stale.pid")).returncode == 1
    run_ok(ssh.start_background_argv(host, ["sleep", "300"], workdir, "stale.pid", "log"))
    assert run(ssh.status_argv(host, workdir, "stale.pid")).returncode == 0
    run_ok(ssh.stop_background_argv(host, workdir, "stale.pid"))

    # A pid file whose pid now belongs to another process group (a recycled
    # pid): its start time differs, so it is neither reported nor killed.
    other = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        run_ok(ssh.run_argv(host, ["bash", "-c", f'echo "{other.pid} 1" > recycled.pid'], workdir))
        assert run(ssh.status_argv(host, workdir, "recycled.pid")).returncode == 1
        run_ok(ssh.stop_background_argv(host, workdir, "recycled.pid", grace=1))
        assert other.poll() is None
        assert run(ssh.run_argv(host, ["test", "-e", "recycled.pid"], workdir)).returncode == 1
    finally:
        other.kill()
        other.wait()
    # Garbage in a pid file is a stale pid file too.
    run_ok(ssh.run_argv(host, ["bash", "-c", "echo 'not a pid' > garbage.pid"], workdir))
    assert run(ssh.status_argv(host, workdir, "garbage.pid")).returncode == 1
    run_ok(ssh.stop_background_argv(host, workdir, "garbage.pid"))


def master_pid(host: ssh.SshHost) -> int | None:
    checked = run(ssh.check_master_argv(host), timeout=30)
    found = re.search(rb"Master running \(pid=(\d+)\)", checked.stderr)
    return int(found.group(1)) if checked.returncode == 0 and found else None


def test_one_connection_is_shared_and_a_dropped_one_is_remade(ssh_host, host, tmp_path):
    assert master_pid(host) is None
    run_ok(ssh.run_argv(host, ["true"], ssh_host.scratch))
    first = master_pid(host)
    assert first is not None
    assert ssh.control_path(host).is_socket()
    assert ssh.control_path(host).parent == host.control_dir.absolute()
    run_ok(ssh.run_argv(host, ["true"], ssh_host.scratch))
    run_ok(ssh.rsync_pull_argv(host, [f"{ssh_host.scratch}/"], tmp_path / "pulled"))
    assert master_pid(host) == first

    # The master dies without cleaning up: its socket stays, stale.
    os.kill(first, signal.SIGKILL)
    assert wait_for(lambda: not Path(f"/proc/{first}").exists() or _is_zombie(first))
    assert ssh.control_path(host).exists()
    run_ok(ssh.run_argv(host, ["true"], ssh_host.scratch))
    second = master_pid(host)
    assert second is not None and second != first

    run_ok(ssh.close_master_argv(host), timeout=30)
    assert wait_for(lambda: master_pid(host) is None)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def test_a_control_dir_with_hostile_characters(ssh_host, tmp_path):
    # Spaces, both quotes and a `%` in the socket path: read by ssh as a
    # config value and by rsync as part of its -e command.
    control_dir = Path(tempfile.mkdtemp(prefix="m %h 'q\" ", dir="/tmp"))
    target = ssh.SshHost(host=ssh_host.alias, control_dir=control_dir, config_file=ssh_host.server.config_file)
    try:
        ssh.prepare_control_dir(target)
        run_ok(ssh.run_argv(target, ["true"], ssh_host.scratch))
        assert ssh.control_path(target).is_socket()
        assert ssh.control_path(target).parent == control_dir
        (tmp_path / "f").write_text("y")
        run_ok(ssh.rsync_push_argv(target, [tmp_path / "f"], ssh_host.scratch))
        assert master_pid(target) is not None
    finally:
        run(ssh.close_master_argv(target), timeout=30)
        subprocess.run(["rm", "-rf", "--", str(control_dir)], check=False)


def test_a_long_control_dir_falls_back_to_a_short_socket_path(ssh_host, tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60) / ".mlc" / "ssh"
    target = ssh.SshHost(host=ssh_host.alias, control_dir=deep, config_file=ssh_host.server.config_file)
    socket_path = ssh.prepare_control_dir(target)
    assert len(str(socket_path)) <= 100
    try:
        run_ok(ssh.run_argv(target, ["true"], ssh_host.scratch))
        assert socket_path.is_socket()
    finally:
        run(ssh.close_master_argv(target), timeout=30)


def test_a_server_that_never_answers_fails_within_the_connect_timeout(tmp_path):
    # A listener whose connections the kernel accepts but nobody serves: ssh
    # connects, then waits for the server's banner.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        config = tmp_path / "config"
        config.write_text(f"Host silent\n  HostName 127.0.0.1\n  Port {port}\n  StrictHostKeyChecking yes\n"
                          f"  UserKnownHostsFile /dev/null\n")
        target = ssh.SshHost(host="silent", control_dir=tmp_path / "ctl", config_file=config, connect_timeout=2)
        ssh.prepare_control_dir(target)
        begun = time.monotonic()
        result = run(ssh.run_argv(target, ["true"], "/tmp"), timeout=60)
        elapsed = time.monotonic() - begun
    assert result.returncode == 255
    assert elapsed < 15, elapsed
