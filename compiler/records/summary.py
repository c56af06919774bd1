"""Per (stage, pool): what the recorded runs used, against what was asked,
and what the user could write instead. Pure: Steps in, plain values out."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from .store import Step

# A request is called too large when the most ever used is under this share of it.
GENEROUS = 0.5
# Suggested requests leave this much headroom over the most ever used.
HEADROOM = 1.25


@dataclass(frozen=True)
class Group:
    stage: str
    pool: str
    runs: int  # steps that completed and were measured
    failed: int
    reused: int  # results re-used from the result cache: not runs, no statistics
    interrupted: int  # stopped by Ctrl-C while they ran: no statistics
    elapsed_median_s: float | None
    elapsed_min_s: float | None
    elapsed_max_s: float | None
    estimate_s: float | None  # what the plan expected (the latest)
    cpu_efficiency: float | None  # CPU time / (elapsed x CPUs asked), over all runs
    max_rss_bytes: int | None
    memory_asked_bytes: int | None
    time_limit_s: float | None
    suggestions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def groups(steps: list[Step]) -> list[Group]:
    keyed: dict[tuple[str, str], list[Step]] = {}
    for step in steps:
        keyed.setdefault((step.stage, step.pool), []).append(step)
    return [_group(stage, pool, members) for (stage, pool), members in sorted(keyed.items())]


def _group(stage: str, pool: str, members: list[Step]) -> Group:
    ok = [s for s in members if s.state == "COMPLETED" and s.elapsed_s is not None]
    reused = sum(s.state == "REUSED" for s in members)
    interrupted = sum(s.state == "INTERRUPTED" for s in members)
    elapsed = [s.elapsed_s for s in ok]
    busy = sum(s.elapsed_s * (s.cpus_asked or 1) for s in ok)
    cpu = [s.cpu_time_s for s in ok if s.cpu_time_s is not None]
    rss = [s.max_rss_bytes for s in ok if s.max_rss_bytes is not None]
    latest = members[-1]
    group = Group(
        stage=stage, pool=pool, runs=len(ok),
        failed=len(members) - len(ok) - reused - interrupted, reused=reused, interrupted=interrupted,
        elapsed_median_s=statistics.median(elapsed) if elapsed else None,
        elapsed_min_s=min(elapsed) if elapsed else None, elapsed_max_s=max(elapsed) if elapsed else None,
        estimate_s=latest.estimate_s,
        cpu_efficiency=sum(cpu) / busy if cpu and busy > 0 else None,
        max_rss_bytes=max(rss) if rss else None, memory_asked_bytes=latest.memory_asked_bytes,
        time_limit_s=latest.time_limit_s,
    )
    group.suggestions.extend(_suggestions(group))
    return group


def _suggestions(g: Group) -> list[str]:
    """Lines the user can paste back into the stage: `memory = ...`, `time = ...`."""
    out = []
    if g.max_rss_bytes and g.memory_asked_bytes and g.max_rss_bytes < GENEROUS * g.memory_asked_bytes:
        better = memory_literal(g.max_rss_bytes * HEADROOM)
        if parse_memory_literal(better) < g.memory_asked_bytes:
            out.append(f"memory = {memory_literal(g.memory_asked_bytes)}, max used {memory_text(g.max_rss_bytes)}: "
                       f"memory = {better} would do")
    if g.elapsed_max_s is not None and g.time_limit_s and g.elapsed_max_s < GENEROUS * g.time_limit_s:
        better = duration_literal(g.elapsed_max_s * HEADROOM)
        if parse_duration_literal(better) < g.time_limit_s:
            out.append(f"time = {duration_literal(g.time_limit_s)}, longest run {human(g.elapsed_max_s)}: "
                       f"time = {better} would do")
    if g.elapsed_max_s is not None and g.time_limit_s and g.elapsed_max_s > 0.9 * g.time_limit_s:
        out.append(f"time = {duration_literal(g.time_limit_s)}, longest run {human(g.elapsed_max_s)}: "
                   f"time = {duration_literal(g.elapsed_max_s * HEADROOM)} leaves room")
    if (g.elapsed_median_s and g.estimate_s and not 0.75 <= g.elapsed_median_s / g.estimate_s <= 1.33
            and parse_duration_literal(duration_literal(g.elapsed_median_s)) != g.estimate_s):
        out.append(f"estimated {human(g.estimate_s)}, median {human(g.elapsed_median_s)}: "
                   f"estimate = {duration_literal(g.elapsed_median_s)} (the plan learns this by itself)")
    return out


_MEMORY_UNITS = (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2))


def memory_literal(size: float) -> str:
    """The smallest power of two, in MiB, GiB or TiB, that holds `size`: `16GiB`."""
    mib = max(1, 2 ** math.ceil(math.log2(max(size, 1) / 1024**2)))
    for unit, scale in _MEMORY_UNITS:
        if mib * 1024**2 >= scale:
            return f"{mib * 1024**2 // scale}{unit}"
    return f"{mib}MiB"


def parse_memory_literal(text: str) -> int:
    for unit, scale in _MEMORY_UNITS:
        if text.endswith(unit):
            return int(text[: -len(unit)]) * scale
    raise ValueError(text)


def memory_text(size: float) -> str:
    for unit, scale in _MEMORY_UNITS:
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size / 1024:.3g} KiB"


def duration_literal(seconds: float) -> str:
    """A whole number of the largest unit that keeps it within a tenth: `90m`, `6h`, `45s`."""
    for unit, scale in (("h", 3600), ("m", 60)):
        if seconds >= 2 * scale:
            return f"{math.ceil(seconds / scale)}{unit}"
    return f"{max(1, math.ceil(seconds))}s"


def parse_duration_literal(text: str) -> float:
    return float(text[:-1]) * {"h": 3600, "m": 60, "s": 1}[text[-1]]


def human(seconds: float) -> str:
    from ..fit import human_duration

    return human_duration(seconds)
