"""Which results of finished steps still exist on a remote site: one query
per site and run, listing every expected path at once (one ssh call, not
one per file). Each site kind says how to reach its work root
(SiteKind.results_query): Slurm sites through their login host (on this
machine without one) and ssh hosts; Kubernetes is not asked yet.

The query is a fixed POSIX sh script; the work root and the paths reach it
as its arguments (quoted for the remote shell by shlex), never as script
text. It prints the position of each path that exists, so no file name is
ever parsed back."""

from __future__ import annotations

import os
import shlex
import subprocess

from ..sites import registry
from ..sites.base import SiteKind

SCRIPT = 'cd -- "$1" 2>/dev/null || exit 0; shift; i=0; for p in "$@"; do [ -e "$p" ] && echo "$i"; i=$((i+1)); done; exit 0'
TIMEOUT = 120


def query(login: str, options: list[str], root: str, paths: list[str], script: str | None = None) -> list[str]:
    """The argv that runs SCRIPT (or another fixed `script`) in `root` on
    `login` (here without one)."""
    argv = ["sh", "-c", script or SCRIPT, "sh", root, *paths]
    if not login:
        return argv
    return ["ssh", *options, "-o", "BatchMode=yes", "--", login, shlex.join(argv)]


def asks(kind: str) -> bool:
    """Whether results on this kind of site are checked."""
    site_kind = registry.KINDS.get(kind)
    return site_kind is not None and type(site_kind).results_query is not SiteKind.results_query


def existing(kind: str, config: dict, experiment: str, paths: list[str]) -> set[str] | str:
    """The paths (relative to the site's work root) that exist there, or a
    string saying why the site could not be asked."""
    if not paths:
        return set()
    argv = registry.KINDS[kind].results_query(experiment, config, paths) if asks(kind) else None
    if argv is None:
        return f"results on a {kind} site are not checked"
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                                cwd=os.path.expanduser("~"))  # a relative work root: under $HOME
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if result.returncode != 0:
        return (result.stderr.strip() or f"exit status {result.returncode}").splitlines()[-1]
    found = set()
    for line in result.stdout.split():
        if line.isdigit() and int(line) < len(paths):
            found.add(paths[int(line)])
    return found
