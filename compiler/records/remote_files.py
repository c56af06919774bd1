"""Sizes and checksums of a step's files on a remote site, for the run
records: one query per site at the end of the run, through the same command
as the results check (SiteKind.results_query, runner/remote_results.py),
with a fixed POSIX sh script. The paths reach it as arguments, never as
script text; it prints `<position> <size> <sha256 or ->` per path that
exists, so no file name is parsed back. A directory has its total size and
no checksum; a file over the limit (or a host without sha256sum) none."""

from __future__ import annotations

import os
import subprocess

from ..runner import remote_results

TIMEOUT = 120


def script(limit: int) -> str:
    return (
        'cd -- "$1" 2>/dev/null || exit 0; shift; i=0\n'
        'for p in "$@"; do\n'
        '  if [ -f "$p" ]; then\n'
        '    s=$(wc -c <"$p" | tr -d " "); sum=-\n'
        f'    if [ "$s" -le {int(limit)} ] && command -v sha256sum >/dev/null 2>&1; then\n'
        '      sum=$(sha256sum <"$p" | cut -d " " -f 1)\n'
        '    fi\n'
        '    echo "$i $s $sum"\n'
        '  elif [ -d "$p" ]; then\n'
        # wc prints `<bytes> <path>` per file and `<bytes> total` lines, which no path under "$p/" is.
        '    s=$(find "$p" -type f -exec wc -c {} + | awk \'$2 != "total" { n += $1 } END { print n + 0 }\')\n'
        '    echo "$i $s -"\n'
        '  fi\n'
        '  i=$((i + 1))\n'
        'done\n'
        'exit 0'
    )


def sizes(kind: str, config: dict, experiment: str, paths: list[str], limit: int) -> dict[str, tuple[int, str | None]]:
    """path -> (size, sha256 or None) for the paths that exist on the site;
    empty when the site cannot be asked."""
    if not paths or not remote_results.asks(kind):
        return {}
    from ..sites import registry

    argv = registry.KINDS[kind].results_query(experiment, config, paths, script(limit))
    if argv is None:
        return {}
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                                cwd=os.path.expanduser("~"))  # a relative work root: under $HOME
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found = {}
    for line in result.stdout.splitlines() if result.returncode == 0 else []:
        words = line.split()
        if len(words) == 3 and words[0].isdigit() and words[1].isdigit() and int(words[0]) < len(paths):
            found[paths[int(words[0])]] = (int(words[1]), None if words[2] == "-" else words[2])
    return found
