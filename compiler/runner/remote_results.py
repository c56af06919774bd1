"""Which results of finished steps still exist on a remote site, with their
size and modification time: one query per site and run, listing every
expected path at once (one ssh call, not one per file). Each site kind says
how to reach its work root (SiteKind.results_query): Slurm sites through
their login host (on this machine without one) and ssh hosts; a Kubernetes
site through a short Job in the cluster that runs the same script
(backends/kubernetes/check.py).

The query is a fixed POSIX sh script; the work root and the paths reach it
as its arguments (quoted for the remote shell by shlex), never as script
text. It prints `INDEX SIZE MTIME` for each path that exists (GNU `stat -c`,
else BSD `stat -f`; INDEX alone when neither works), so no file name is
ever parsed back."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from dataclasses import dataclass
import subprocess

from ..sites import registry
from ..sites.base import SiteKind

SCRIPT = ('cd -- "$1" 2>/dev/null || exit 0; shift; i=0; for p in "$@"; do '
          'if [ -e "$p" ]; then s=$(stat -c "%s %Y" -- "$p" 2>/dev/null || stat -f "%z %m" -- "$p" 2>/dev/null); '
          'echo "$i $s"; fi; i=$((i+1)); done; exit 0')
TIMEOUT = 120


def query(login: str, options: list[str], root: str, paths: list[str], script: str | None = None) -> list[str]:
    """The argv that runs SCRIPT (or another fixed `script`) in `root` on
    `login` (here without one)."""
    return on_host(login, options, ["sh", "-c", script or SCRIPT, "sh", root, *paths])


def on_host(login: str, options: list[str], argv: list[str]) -> list[str]:
    """`argv` on the host `login` over ssh, each word quoted for its shell (here without one)."""
    if not login:
        return argv
    return ["ssh", *options, "-o", "BatchMode=yes", "--", login, shlex.join(argv)]


# Runs the rest of its arguments in the work root ($1); status 3 when that is missing.
IN_ROOT = 'cd -- "$1" 2>/dev/null || exit 3; shift; exec "$@"'


def in_work_root(login: str, options: list[str], root: str, argv: list[str]) -> list[str]:
    """The argv that runs `argv` in `root` on `login` (here without one)."""
    return on_host(login, options, ["sh", "-c", IN_ROOT, "sh", root, *argv])


def asks(kind: str) -> bool:
    """Whether results on this kind of site are checked."""
    site_kind = registry.KINDS.get(kind)
    return site_kind is not None and type(site_kind).results_query is not SiteKind.results_query


@dataclass(frozen=True)
class Found:
    size: int | None  # None: the host's stat said nothing
    mtime: float | None  # seconds since the epoch, by the host's clock


def existing(kind: str, config: dict, experiment: str, paths: list[str], outdir: Path | None = None,
             site: str = "") -> dict[str, Found] | str:
    """The paths (relative to the site's work root) that exist there, with
    their size and mtime, or a string saying why the site could not be asked."""
    if not paths:
        return {}
    query = registry.KINDS[kind].results_query if asks(kind) else None
    argv = query(experiment, config, paths, outdir=outdir, site=site) if query else None
    if argv is None:
        return f"results on a {kind} site are not checked"
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                                cwd=os.path.expanduser("~"))  # a relative work root: under $HOME
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if result.returncode != 0:
        return (result.stderr.strip() or f"exit status {result.returncode}").splitlines()[-1]
    found = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if not words or not words[0].isdigit() or int(words[0]) >= len(paths):
            continue  # a login banner
        stat = [int(w) if w.isdigit() else None for w in words[1:3]] if len(words) == 3 else [None, None]
        found[paths[int(words[0])]] = Found(size=stat[0], mtime=None if stat[1] is None else float(stat[1]))
    return found
