"""Which results of finished steps still exist on a remote site: one query
per site and run, listing every expected path at once (one ssh call, not
one per file). Slurm sites (through their login host, or on this machine
without one) and ssh hosts are asked; Kubernetes is not yet.

The query is a fixed POSIX sh script; the work root and the paths reach it
as its arguments (quoted for the remote shell by shlex), never as script
text. It prints the position of each path that exists, so no file name is
ever parsed back."""

from __future__ import annotations

import os
import shlex
import subprocess

QUERY = 'cd -- "$1" 2>/dev/null || exit 0; shift; i=0; for p in "$@"; do [ -e "$p" ] && echo "$i"; i=$((i+1)); done; exit 0'
TIMEOUT = 120
KINDS = ("slurm", "ssh")  # the site kinds asked; a Kubernetes site's flag still decides


def _command(kind: str, config: dict, experiment: str, paths: list[str]) -> tuple[list[str], str] | None:
    """The command that runs QUERY where the site's work root is, and the root."""
    if kind == "slurm":
        root = f"{str(config.get('scratch', '')).rstrip('/')}/{experiment}"
        login, options = str(config.get("login", "")), []
    elif kind == "ssh":
        root = str(config.get("root", ""))
        login = str(config.get("host", ""))
        options = ["-F", str(config["ssh_config"])] if config.get("ssh_config") else []
        if not login:
            return None
    else:
        return None
    query = ["sh", "-c", QUERY, "sh", root, *paths]
    if not login:  # the cluster's file system is this machine's; relative scratch: under $HOME
        return query, root
    return ["ssh", *options, "-o", "BatchMode=yes", "--", login, shlex.join(query)], root


def existing(kind: str, config: dict, experiment: str, paths: list[str]) -> set[str] | str:
    """The paths (relative to the site's work root) that exist there, or a
    string saying why the site could not be asked. None asked: empty set."""
    if not paths:
        return set()
    command = _command(kind, config, experiment, paths)
    if command is None:
        return f"results on a {kind} site are not checked"
    argv, _root = command
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                                cwd=os.path.expanduser("~"))
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if result.returncode != 0:
        return (result.stderr.strip() or f"exit status {result.returncode}").splitlines()[-1]
    found = set()
    for line in result.stdout.split():
        if line.isdigit() and int(line) < len(paths):
            found.add(paths[int(line)])
    return found
