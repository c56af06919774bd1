"""Runs the ssh site kind's steps at run time: copied into the output folder
as ssh/driver.py beside ssh/transport.py (a copy of compiler/transport/ssh.py)
and run by the Snakefile and the transfer scripts as

    MLC_SSH_HOST=... MLC_SSH_CONFIG=... MLC_SSH_ROOT=... python3 ssh/driver.py COMMAND ARG...

MLC_SSH_HOST and MLC_SSH_CONFIG (empty: the user's ~/.ssh/config) say how ssh
reaches the site, MLC_SSH_ROOT is the experiment's work root there (relative:
to the login directory); environment variables, because an empty value
survives there (Snakemake's `:q` drops an empty word). Every value reaches the
host as an argv word that the transport's argv builders quote for the remote
shell; nothing here builds shell text.

Commands:
  run SCRIPT [USAGE]           copies the stage script to ROOT/.mlc/scripts/
                               and runs it there with bash; then copies what
                               its wrapper measured, ROOT/.mlc/usage/USAGE.json,
                               to .mlc/usage/ here (the run records read it)
  start SCRIPT NAME PORT [HEALTH]  (re)starts a service script as a
                               background process group with
                               ROOT/.mlc/run/NAME.pid and .log, then waits
                               until its port (or HEALTH path) answers on
                               the host
  stop NAME                    stops it (SIGTERM, then SIGKILL)
  status NAME                  exit 0 if it runs
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import sys
import time
from pathlib import Path

if __package__:  # imported from the compiler package (the runner, tests)
    from ...transport import ssh as transport
else:  # run from the output folder, beside its copy of the transport
    import transport  # type: ignore[no-redef]

CONTROL_DIR = Path(".mlc/ssh")  # the shared connections' sockets, in the output folder
SCRIPTS = ".mlc/scripts"  # under the work root on the host
RUN = ".mlc/run"  # services' pid files and logs, under the work root
USAGE = ".mlc/usage"  # what a stage's wrapper measured: under the work root there, the output folder here

# Asks the host whether a service answers: its port, or an HTTP path on it.
_PROBE = """
import socket, sys, urllib.request
port, health = int(sys.argv[1]), sys.argv[2]
try:
    if health:
        urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=2).close()
    else:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
except Exception:
    sys.exit(1)
"""


def host_of(host: str, ssh_config: str, control_dir: Path = CONTROL_DIR) -> transport.SshHost:
    return transport.SshHost(host=host, control_dir=control_dir, config_file=Path(ssh_config) if ssh_config else None)


def pid_file(name: str) -> str:
    return f"{RUN}/{name}.pid"


def log_file(name: str) -> str:
    return f"{RUN}/{name}.log"


def _call(argv: list[str], **kwargs) -> int:
    return subprocess.run(argv, check=False, **kwargs).returncode


def _copy_script(host: transport.SshHost, script: str, root: str) -> str:
    """Copies a generated script into the work root; its path there. Exits
    with ssh's or rsync's status when that fails."""
    status = _call(transport.run_argv(host, ["mkdir", "-p", "--", SCRIPTS, RUN], root))
    if status != 0:
        sys.exit(status)
    status = _call(transport.rsync_push_argv(host, [script], posixpath.join(root, SCRIPTS)))
    if status != 0:
        sys.exit(status)
    return f"{SCRIPTS}/{os.path.basename(script)}"


def run(host: transport.SshHost, root: str, script: str, usage: str = "") -> int:
    remote = _copy_script(host, script, root)
    if usage:  # a file left by an earlier run must not pass for this one's
        _call(transport.run_argv(host, ["rm", "-f", "--", usage_file(usage)], root))
    status = _call(transport.run_argv(host, ["bash", remote], root))
    if usage:
        _fetch_usage(host, root, usage)
    return status


def usage_file(name: str) -> str:
    return f"{USAGE}/{name}.json"


def _fetch_usage(host: transport.SshHost, root: str, name: str) -> None:
    """Copies the step's measured usage to the output folder; without it
    (no python3 on the host, ssh failed) the step is recorded unmeasured."""
    fetched = subprocess.run(transport.run_argv(host, ["cat", "--", usage_file(name)], root), check=False,
                             capture_output=True)
    if fetched.returncode != 0 or not fetched.stdout:
        return
    local = Path(usage_file(name))
    local.parent.mkdir(parents=True, exist_ok=True)
    local.with_suffix(".tmp").write_bytes(fetched.stdout)
    local.with_suffix(".tmp").replace(local)


def start(host: transport.SshHost, root: str, script: str, name: str, port: str, health: str = "") -> int:
    remote = _copy_script(host, script, root)
    # A rerun (new inputs) restarts the service with them, as on a local site.
    status = _call(transport.stop_background_argv(host, root, pid_file(name)))
    if status != 0:
        return status
    status = _call(transport.start_background_argv(host, ["bash", remote], root, pid_file(name), log_file(name)))
    if status != 0:
        return status
    deadline = time.monotonic() + float(os.environ.get("MLC_READY_TIMEOUT", "300"))
    while True:
        probe = ["python3", "-c", _PROBE, port, health]
        if _call(transport.run_argv(host, probe, root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
            return 0
        if _call(transport.status_argv(host, root, pid_file(name))) != 0:
            print(f"service {name} exited before it was ready; last lines of its log:", file=sys.stderr)
            _call(transport.run_argv(host, ["tail", "-n", "50", "--", log_file(name)], root), stdout=sys.stderr)
            return 1
        if time.monotonic() > deadline:
            print(f"service {name} not ready in time", file=sys.stderr)
            return 1
        time.sleep(1)


def stop(host: transport.SshHost, root: str, name: str) -> int:
    return _call(transport.stop_background_argv(host, root, pid_file(name)))


def status(host: transport.SshHost, root: str, name: str) -> int:
    return _call(transport.status_argv(host, root, pid_file(name)))


def main(argv: list[str]) -> int:
    commands = {"run": (run, {1, 2}), "start": (start, {3, 4}), "stop": (stop, {1}), "status": (status, {1})}
    host, root = os.environ.get("MLC_SSH_HOST", ""), os.environ.get("MLC_SSH_ROOT", "")
    if not argv or argv[0] not in commands or len(argv) - 1 not in commands[argv[0]][1] or not host or not root:
        print(__doc__, file=sys.stderr)
        return 2
    reached = host_of(host, os.environ.get("MLC_SSH_CONFIG", ""))
    transport.prepare_control_dir(reached)
    return commands[argv[0]][0](reached, root, *argv[1:])

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
