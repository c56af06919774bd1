"""cProfile of one mlc command, summarised as the functions that take the
most time: cumulative (where the time goes, callers included) and own time
(the functions to make faster)."""

from __future__ import annotations

import pstats
import sys
from dataclasses import dataclass
from pathlib import Path

from .measure import run

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class HotSpot:
    function: str  # path:line(name), relative to the repository or site-packages
    calls: int
    own_seconds: float
    cumulative_seconds: float


@dataclass(frozen=True)
class Profile:
    title: str
    total_seconds: float
    by_cumulative: list[HotSpot]
    by_own: list[HotSpot]


def _where(filename: str, line: int, name: str, code: Path = REPO) -> str:
    if filename == "~":  # a built-in
        return name
    path = filename
    for root in (str(code) + "/", "site-packages/", f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/"):
        if root in path:
            path = path.split(root, 1)[1]
            break
    return f"{path}:{line}({name})"


def profile(title: str, mlc_args: list[str], cwd: Path, output: Path, top: int = 15,
            timeout: float = 900, env: dict[str, str] | None = None, code: Path = REPO) -> Profile:
    """Profiles `mlc <mlc_args>` run in `cwd` (with `env`: e.g. the
    compiler in `code` on PYTHONPATH; paths are shown relative to it); the
    raw profile goes to `output`."""
    argv = [sys.executable, "-m", "cProfile", "-o", str(output), "-m", "compiler.cli", *mlc_args]
    result = run(argv, cwd=cwd, timeout=timeout, log=output.with_suffix(".log"), env=env)
    if result.status != "ok":
        raise RuntimeError(f"profiling `mlc {' '.join(mlc_args)}` failed: see {result.log}")
    stats = pstats.Stats(str(output))
    rows = [HotSpot(_where(*key, code), calls, own, cumulative)
            for key, (_, calls, own, cumulative, _) in stats.stats.items()]
    total = stats.total_tt
    # The interpreter's own frames (module import, runpy, the CLI's main)
    # span the whole run and say nothing: keep what is below 95% of it.
    below_top = [r for r in rows if r.cumulative_seconds < 0.95 * total]
    by_cumulative = sorted(below_top, key=lambda r: (-r.cumulative_seconds, r.function))[:top]
    by_own = sorted(rows, key=lambda r: (-r.own_seconds, r.function))[:top]
    return Profile(title, total, by_cumulative, by_own)
