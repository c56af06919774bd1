"""The Markdown tables of docs/benchmarks.md. The document is prose written
by hand around generated sections; each generated section sits between
`<!-- begin generated: NAME -->` and `<!-- end generated: NAME -->` and is
replaced on every run, the rest is left alone."""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict

from . import cases, sweep_cases
from .profiling import Profile
from .results import Measurement

PEERS = {"check": (cases.MINIWDL_CHECK, cases.SNAKEMAKE_DRY_RUN),
         "compile": (cases.SNAKEMAKE_DRY_RUN_GENERATED,)}
MLC = {"check": cases.MLC_CHECK, "compile": cases.MLC_COMPILE}


def replace_section(document: str, name: str, body: str) -> str:
    begin, end = f"<!-- begin generated: {name} -->", f"<!-- end generated: {name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(document):
        return pattern.sub(lambda _: block, document)
    return document.rstrip() + f"\n\n{block}\n"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _mib(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _status(m: Measurement) -> str:
    if m.status == "timeout":
        return f"timeout (> {m.timeout:.0f} s)"
    if m.status == "not run":
        return "not run"
    if m.status == "failed":
        codes = sorted({str(r.returncode) for r in m.runs if r.status == "failed"})
        return f"failed (exit {', '.join(codes)})"
    return ""


def _versus(m: Measurement, mlc: Measurement | None) -> str:
    """How mlc compares with this peer, on wall time."""
    if mlc is None or mlc.seconds is None:
        return ""
    if m.status == "timeout":
        return f"mlc > {m.timeout / mlc.seconds:.0f}x faster"
    if m.seconds is None:
        return ""
    ratio = m.seconds / mlc.seconds
    return f"mlc {ratio:.1f}x faster" if ratio >= 1 else f"mlc {1 / ratio:.1f}x slower"


def _index(measurements: list[Measurement], phase: str) -> dict[tuple[int, str], dict[str, Measurement]]:
    table: dict[tuple[int, str], dict[str, Measurement]] = defaultdict(dict)
    for m in measurements:
        if m.phase == phase:
            table[(m.size, m.recipe)][m.tool] = m
    return table


def phase_table(measurements: list[Measurement], phase: str) -> str:
    """Every measurement of a phase: one row per tool, grouped by workload."""
    rows = [("| tasks asked | workflow | tasks | file refs | tool | runs | wall (s) | CPU (s) "
             "| peak RSS (MiB) | mlc vs this tool |"),
            "| ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |"]
    for (size, recipe), by_tool in sorted(_index(measurements, phase).items()):
        mlc = by_tool.get(MLC[phase])
        for tool in (MLC[phase], *PEERS[phase]):
            m = by_tool.get(tool)
            if m is None:
                continue
            versus = "" if tool == MLC[phase] else _versus(m, mlc)
            wall = _status(m) or _seconds(m.seconds)
            rows.append(f"| {size} | {recipe} | {m.tasks} | {m.references} | {tool} | {len(m.runs)} | {wall} "
                        f"| {_seconds(m.cpu_seconds)} "
                        f"| {_mib(m.peak_mib)} | {versus} |")
    return "\n".join(rows)


def growth_table(measurements: list[Measurement], phase: str) -> str:
    """mlc's wall time and peak memory per workflow and size, and the growth
    exponent between consecutive sizes: log(t2/t1) / log(n2/n1), where 1.0
    is linear and 2.0 quadratic. It is taken on CPU time, which other load on
    the machine disturbs far less than wall time, against tasks and against
    file references (some recipes grow those faster than tasks). Start-up
    costs pull it below 1 at small sizes."""
    per_size: dict[str, dict[int, Measurement]] = defaultdict(dict)
    for (size, recipe), by_tool in _index(measurements, phase).items():
        if MLC[phase] in by_tool:
            per_size[recipe][size] = by_tool[MLC[phase]]
    sizes = sorted({s for by_size in per_size.values() for s in by_size})
    steps = list(itertools.pairwise(sizes))
    head = [f"{s} tasks" for s in sizes] + [f"exponent {a}→{b}" for a, b in steps]
    rows = ["| workflow | " + " | ".join(head) + " |", "| --- |" + " ---: |" * len(head)]
    for recipe in sorted(per_size):
        runs = per_size[recipe]
        cells = [_growth_cell(runs.get(s)) for s in sizes]
        cells += [_exponents(runs.get(a), runs.get(b)) for a, b in steps]
        rows.append(f"| {recipe} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _growth_cell(m: Measurement | None) -> str:
    if m is None:
        return "–"
    return _status(m) or f"{_seconds(m.seconds)} s, {_mib(m.peak_mib)} MiB"


def _exponent(small: Measurement, large: Measurement, attribute: str, per: str = "tasks") -> float:
    return (math.log(getattr(large, attribute) / getattr(small, attribute))
            / math.log(getattr(large, per) / getattr(small, per)))


def _exponents(small: Measurement | None, large: Measurement | None) -> str:
    if small is None or large is None or small.seconds is None or large.seconds is None:
        return "–"
    return (f"time {_exponent(small, large, 'cpu_seconds'):.2f} "
            f"({_exponent(small, large, 'cpu_seconds', 'references'):.2f} per file ref), "
            f"memory {_exponent(small, large, 'peak_mib'):.2f}")


def profile_section(profiles: list[Profile]) -> str:
    parts = []
    for p in profiles:
        parts.append(f"**{p.title}** — {p.total_seconds:.2f} s under the profiler.\n")
        for title, rows, key in (("Cumulative (callers included)", p.by_cumulative, "cumulative_seconds"),
                                 ("Own time (the function's body only)", p.by_own, "own_seconds")):
            parts.append(f"{title}:\n")
            parts.append("| function | calls | own (s) | cumulative (s) | share |")
            parts.append("| --- | ---: | ---: | ---: | ---: |")
            for r in rows:
                share = getattr(r, key) / p.total_seconds if p.total_seconds else 0.0
                parts.append(f"| `{r.function}` | {r.calls} | {r.own_seconds:.2f} "
                             f"| {r.cumulative_seconds:.2f} | {share:.0%} |")
            parts.append("")
    return "\n".join(parts)


def _machine(run: dict) -> str:
    """The processor of one run and its pace (bench/run.py's `pace`), where
    recorded."""
    text = f" on {run['cpu']}" if run.get("cpu") else ""
    if run.get("pace"):
        after = f" at the start, {run['pace_after']} s at the end" if run.get("pace_after") else ""
        text += f" (10^7 Python additions in {run['pace']} s CPU{after})"
    return text


def context_section(context: dict) -> str:
    """The machine of the latest run, then every run with its processor
    (when recorded): the rows of the tables come from several runs, and the
    machine has not always been the same one."""
    lines = [f"- machine of the latest run: {context['cores']} cores, {context['memory']} memory ({context['cpu']})"]
    lines += [f"- measured {run['when']}{_machine(run)}: `{run['command']}`" for run in context["invocations"]]
    lines += [f"- {tool}: {version}" for tool, version in sorted(context["versions"].items())]
    return "\n".join(lines)


# The targets the project set (issues 2, 4 and 7), checked against the medians.
CHECK_SPEEDUP_AT_5000 = 20  # mlc check at least this much faster than miniwdl check
CHECK_PEAK_MIB_AT_5000 = 500 * 1000**2 / 1024**2  # "under 500 MB"
CHECK_SECONDS_AT_20000 = 30  # "well under a minute": read as at most half of one
COMPILE_SHARE_OF_DRY_RUN = 0.2  # the whole compile at most a fifth of Snakemake's dry run
LINEAR_EXPONENT = 1.2  # "close to linear"


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else "met" if ok else "**missed**"


def targets_section(measurements: list[Measurement]) -> str:
    rows = ["| target | workflow | measured | verdict |", "| --- | --- | ---: | --- |"]
    check = _index(measurements, "check")
    for (size, recipe), by_tool in sorted(check.items()):
        mlc = by_tool.get(cases.MLC_CHECK)
        if mlc is None:
            continue
        if size == 5000:
            wdl = by_tool.get(cases.MINIWDL_CHECK)
            if wdl is not None:
                ratio = _ratio(wdl, mlc)
                rows.append(f"| check, 5000 tasks: ≥ {CHECK_SPEEDUP_AT_5000}x faster than miniwdl | {recipe} "
                            f"| {_ratio_text(ratio, wdl)} | "
                            f"{_verdict(None if ratio is None else ratio >= CHECK_SPEEDUP_AT_5000)} |")
            rows.append(f"| check, 5000 tasks: peak < 500 MB | {recipe} | {_mib(mlc.peak_mib)} MiB "
                        f"| {_verdict(None if mlc.peak_mib is None else mlc.peak_mib < CHECK_PEAK_MIB_AT_5000)} |")
        if size == 20000:
            rows.append(f"| check, 20000 tasks: well under a minute (≤ {CHECK_SECONDS_AT_20000} s) | {recipe} | {_seconds(mlc.seconds)} s "
                        f"| {_verdict(None if mlc.seconds is None else mlc.seconds < CHECK_SECONDS_AT_20000)} |")
    for (size, recipe), by_tool in sorted(_index(measurements, "compile").items()):
        mlc, dry = by_tool.get(cases.MLC_COMPILE), by_tool.get(cases.SNAKEMAKE_DRY_RUN_GENERATED)
        if mlc is None or dry is None:
            continue
        share = None if mlc.seconds is None or dry.seconds is None else mlc.seconds / dry.seconds
        measured = "–" if share is None else f"{share:.2f}x the dry run"
        if mlc.status == "timeout":
            measured = f"timeout (> {mlc.timeout:.0f} s)"
        ok = False if mlc.status == "timeout" else None if share is None else share <= COMPILE_SHARE_OF_DRY_RUN
        rows.append(f"| compile, {size} tasks: ≤ {COMPILE_SHARE_OF_DRY_RUN}x Snakemake's dry run | {recipe} "
                    f"| {measured} | {_verdict(ok)} |")
    for phase, tool in (("check", cases.MLC_CHECK), ("compile", cases.MLC_COMPILE)):
        by_recipe: dict[str, list[Measurement]] = defaultdict(list)
        for (_, recipe), by_tool in sorted(_index(measurements, phase).items()):
            if tool in by_tool and by_tool[tool].seconds is not None:
                by_recipe[recipe].append(by_tool[tool])
        for recipe, ms in sorted(by_recipe.items()):
            if len(ms) < 2:
                continue
            small, large = ms[-2], ms[-1]  # the largest sizes: start-up costs matter least
            exponent = _exponent(small, large, "cpu_seconds")
            per_reference = _exponent(small, large, "cpu_seconds", "references")
            # linear in the input, as issue 19's rows judge it: SoyKB and
            # SRASearch grow their file references faster than their tasks
            rows.append(f"| {phase}: CPU time grows close to linearly in file references ({small.size}→{large.size}) "
                        f"| {recipe} | exponent {per_reference:.2f} per file ref ({exponent:.2f} per task) "
                        f"| {_verdict(per_reference <= LINEAR_EXPONENT)} |")
    rows += sweep_targets(measurements)
    return "\n".join(rows)


def _ratio(peer: Measurement, mlc: Measurement) -> float | None:
    if mlc.seconds is None:
        return None
    if peer.status == "timeout":
        return peer.timeout / mlc.seconds  # a lower bound
    return None if peer.seconds is None else peer.seconds / mlc.seconds


def _ratio_text(ratio: float | None, peer: Measurement) -> str:
    if ratio is None:
        return "–"
    return f"{'> ' if peer.status == 'timeout' else ''}{ratio:.1f}x faster"


# Issue 11 item 6: a sweep compiles on Kubernetes within this factor of the
# same sweep on Slurm, at this many members.
SWEEP_KIND_RATIO, SWEEP_RATIO_MEMBERS = 1.5, 1600


def _sweep_index(measurements: list[Measurement]) -> dict[tuple[str, int, str], Measurement]:
    return {(m.recipe, m.size, m.tool): m for m in measurements if m.phase == sweep_cases.PHASE}


def _cpu(m: Measurement | None) -> str:
    return "–" if m is None else _status(m) or f"{_seconds(m.cpu_seconds)}"


def sweep_table(measurements: list[Measurement]) -> str:
    """CPU seconds of `mlc compile` and of code generation alone for the
    same sweep on each kind of site, the ratio of each kind to Slurm, and
    the growth exponent of each kind between consecutive sizes (1.0 linear,
    2.0 quadratic; on compile CPU time, start-up included)."""
    index = _sweep_index(measurements)
    kinds = sorted({kind for kind, _, _ in index})
    sizes = sorted({size for _, size, _ in index})
    rows = ["| members | kind | compile CPU (s) | emit alone CPU (s) | compile vs Slurm |",
            "| ---: | --- | ---: | ---: | ---: |"]
    for size in sizes:
        slurm = index.get(("slurm", size, sweep_cases.COMPILE))
        for kind in kinds:
            compiled = index.get((kind, size, sweep_cases.COMPILE))
            versus = "–"
            if compiled and slurm and compiled.cpu_seconds is not None and slurm.cpu_seconds:
                versus = f"{compiled.cpu_seconds / slurm.cpu_seconds:.2f}x"
            rows.append(f"| {size} | {kind} | {_cpu(compiled)} | {_cpu(index.get((kind, size, sweep_cases.EMIT)))} "
                        f"| {versus} |")
    steps = list(itertools.pairwise(sizes))
    if steps:
        rows += ["", "| kind | " + " | ".join(f"exponent {a}→{b} (compile, emit)" for a, b in steps) + " |",
                 "| --- |" + " ---: |" * len(steps)]
        for kind in kinds:
            cells = []
            for a, b in steps:
                pair = [_sweep_exponent(index.get((kind, a, tool)), index.get((kind, b, tool)))
                        for tool in (sweep_cases.COMPILE, sweep_cases.EMIT)]
                cells.append(", ".join(pair))
            rows.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _sweep_exponent(small: Measurement | None, large: Measurement | None) -> str:
    if small is None or large is None or not small.cpu_seconds or not large.cpu_seconds:
        return "–"
    return f"{_exponent(small, large, 'cpu_seconds'):.2f}"


def sweep_targets(measurements: list[Measurement]) -> list[str]:
    index = _sweep_index(measurements)
    kubernetes = index.get(("kubernetes", SWEEP_RATIO_MEMBERS, sweep_cases.COMPILE))
    slurm = index.get(("slurm", SWEEP_RATIO_MEMBERS, sweep_cases.COMPILE))
    if kubernetes is None or slurm is None:
        return []
    ratio = None
    if kubernetes.cpu_seconds is not None and slurm.cpu_seconds:
        ratio = kubernetes.cpu_seconds / slurm.cpu_seconds
    measured = "–" if ratio is None else f"{ratio:.2f}x Slurm's CPU time"
    row = (f"| compile, {SWEEP_RATIO_MEMBERS}-member sweep: Kubernetes ≤ {SWEEP_KIND_RATIO}x Slurm | sweep "
           f"| {measured} | {_verdict(None if ratio is None else ratio <= SWEEP_KIND_RATIO)} |")
    return [row]
