"""Plots of the measurements (SVG): wall time and peak memory against the
number of tasks, one line per tool, the median over the workflows that the
peers were measured on too (so that every line covers the same workflows).
A timeout is drawn as a cross at the timeout. Needs matplotlib."""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

from . import cases
from .results import Measurement

MLC_TOOLS = (cases.MLC_CHECK, cases.MLC_COMPILE)


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _compared(measurements: list[Measurement], phase: str) -> list[Measurement]:
    mine = [m for m in measurements if m.phase == phase]
    with_peers = {m.recipe for m in mine if m.tool not in MLC_TOOLS}
    return [m for m in mine if m.recipe in with_peers] if with_peers else mine


def _series(measurements: list[Measurement], attribute: str) -> dict[str, list[tuple[int, float]]]:
    values: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for m in measurements:
        value = getattr(m, attribute)
        if value is not None:
            values[m.tool][m.size].append(value)
    return {tool: [(size, statistics.median(v)) for size, v in sorted(by_size.items())]
            for tool, by_size in sorted(values.items())}


def plot(measurements: list[Measurement], phase: str, folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "mlc-bench"  # stable ids: the SVG diffs cleanly
    compared = _compared(measurements, phase)
    recipes = ", ".join(sorted({m.recipe for m in compared}))
    written = []
    for attribute, label in (("seconds", "wall time (s)"), ("peak_mib", "peak RSS (MiB)")):
        series = _series(compared, attribute)
        if not series:
            continue
        figure, axes = plt.subplots(figsize=(6.5, 4.2))
        for tool, points in series.items():
            line, = axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=tool)
            if attribute == "seconds":
                timeouts = sorted({(m.size, m.timeout) for m in compared
                                   if m.tool == tool and m.status == "timeout"})
                if timeouts:
                    axes.plot([t[0] for t in timeouts], [t[1] for t in timeouts], marker="x",
                              linestyle="none", markersize=10, color=line.get_color(),
                              label=f"{tool}: timeout")
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("tasks (stages)")
        axes.set_ylabel(label)
        axes.set_title(f"{phase}: {label}\nmedian over {recipes}", fontsize=10)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
        figure.tight_layout()
        path = folder / f"bench-{phase}-{'time' if attribute == 'seconds' else 'memory'}.svg"
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, metadata={"Date": None})
        plt.close(figure)
        written.append(path)
    return written
