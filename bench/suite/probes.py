"""Issue 19's benchmark scripts, each run in a fresh process and read back:
the numbers they print become Records (results.py), so that the report can
judge the targets and be rewritten without measuring again.

Each script stays the way to measure one thing by hand (its command is kept
with its record); this module only runs it and reads what it prints: a
Markdown table by its column headers, or the script's own line format. A
script whose output cannot be read fails loudly (ProbeError), so that a
change to its format is seen by tests/bench/test_smoke.py, not by the
report."""

from __future__ import annotations

import compileall
import functools
import os
import re
import shlex
import sys
from pathlib import Path

from .measure import run
from .results import Record

BENCH = Path(__file__).resolve().parents[1]
REPO = BENCH.parent


class ProbeError(RuntimeError):
    pass


def environment(code: Path | None = None) -> dict[str, str]:
    """This checkout's compiler first (or the one in `code`), not an
    installed copy of it, byte-compiled as an installed copy is."""
    first = str(code or REPO)
    byte_compiled(Path(first))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [first, os.environ.get("PYTHONPATH")]))}


@functools.cache
def byte_compiled(code: Path) -> None:
    """Writes the .pyc files of the compiler in `code`. pip writes them when
    it installs mlc, but a checkout run under PYTHONDONTWRITEBYTECODE (as on
    this machine) has none, and every run would compile its ~120 modules
    again: about 0.1 s of each measured command that no user pays."""
    compileall.compile_dir(str(code / "compiler"), quiet=1)


def _command(script: Path, args: list[str]) -> str:
    return shlex.join(["python", str(script.relative_to(REPO)), *args])


def _run(script: Path, args: list[str], log: Path, timeout: float, cwd: Path = REPO) -> str:
    """The script's output (stdout and stderr); ProbeError when it fails."""
    outcome = run([sys.executable, str(script), *args], cwd=cwd, timeout=timeout, log=log, env=environment())
    if outcome.status != "ok":
        raise ProbeError(f"{_command(script, args)}: {outcome.status} after {outcome.seconds:.0f} s, see {log}")
    return log.read_text(encoding="utf-8", errors="replace")


def markdown_rows(text: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table in text, as {header: cell}."""
    lines = [line.strip() for line in text.splitlines()]
    for i in range(len(lines) - 1):
        if lines[i].startswith("|") and re.fullmatch(r"\|[\s:|-]+\|", lines[i + 1]):
            header = [cell.strip() for cell in lines[i].strip("|").split("|")]
            rows = []
            for line in lines[i + 2:]:
                if not line.startswith("|"):
                    break
                rows.append(dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=False)))
            return rows
    return []


def _cell(row: dict[str, str], *words: str) -> float:
    """The number in the column whose header holds all `words` (case
    ignored; thousands separators and units dropped)."""
    exact = [h for h in row if h.lower() == " ".join(words).lower()]  # "tasks", not "exponent per task"
    for header, cell in [(h, row[h]) for h in exact] + list(row.items()):
        if all(word.lower() in header.lower() for word in words):
            number = re.search(r"-?\d[\d,]*(?:\.\d+)?", cell)
            if number is None:
                raise ProbeError(f"no number under {header!r}: {cell!r}")
            return float(number.group().replace(",", ""))
    raise ProbeError(f"no column with {' '.join(words)!r} among {list(row)}")


def _search(pattern: str, text: str, what: str) -> re.Match:
    found = re.search(pattern, text, re.MULTILINE)
    if found is None:
        raise ProbeError(f"{what}: no line matches {pattern!r} in:\n{text[-2000:]}")
    return found


# --- placement: bench/placement/timing.py and plan_vs_check.py ----------------

TIMING = BENCH / "placement" / "timing.py"
PLAN_VS_CHECK = BENCH / "placement" / "plan_vs_check.py"


def placement(workflows: list[str], capacities: list[str], sizes: list[int], repeat: int, timeout: float,
              logs: Path) -> list[Record]:
    """CPU seconds of `place()` for each workflow, capacity and size, in one
    process (timing.py's rows: each workflow and capacity in increasing size)."""
    args = ["--workflows", *workflows, "--capacity", *capacities, "--sizes", *map(str, sorted(sizes)),
            "--repeat", str(repeat)]
    rows = markdown_rows(_run(TIMING, args, logs / "placement.log", timeout))
    by_case: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        by_case.setdefault((row.get("workflow", ""), row.get("capacity", "")), []).append(row)
    records = []
    for workflow in workflows:
        for capacity in capacities:
            found = by_case.get((workflow, capacity), [])
            if len(found) != len(sizes):
                raise ProbeError(f"{_command(TIMING, args)}: {len(found)} rows of {workflow} {capacity} "
                                 f"for {len(sizes)} sizes")
            records += [Record("placement", f"{workflow} {capacity} {size}", _command(TIMING, args),
                               {"workflow": workflow, "capacity": capacity, "size": size,
                                "tasks": int(_cell(row, "tasks")), "edges": int(_cell(row, "edges")),
                                "cpu_s": _cell(row, "cpu"), "makespan": _cell(row, "makespan")})
                        for size, row in zip(sorted(sizes), found, strict=True)]
    return records


QUALITY = BENCH / "placement" / "run.py"


def placement_quality(sizes: list[int], smoke: bool, timeout: float, logs: Path) -> Record:
    """The placer against HEFT on the benchmark's instances and against the
    exact MILP on small cut-outs: the summary lines of the report that
    bench/placement/run.py writes (here under `logs`, not over its own)."""
    output = logs / "placement-quality.md"
    args = ["--smoke"] if smoke else ["--sizes", *map(str, sizes)]
    _run(QUALITY, [*args, "--output", str(output)], logs / "placement-quality.log", timeout)
    text = output.read_text(encoding="utf-8")
    what = f"{QUALITY.relative_to(REPO)}'s report"
    heft = _search(r"instances: (\d+); against HEFT: (\d+) wins, (\d+) ties, (\d+) losses", text, what)
    gap = _search(r"mean gap ([\d.]+)%, worst ([\d.]+)%", text, what)
    return Record("placement-quality", "smoke" if smoke else ",".join(map(str, sizes)),
                  _command(QUALITY, [*args, "--output", "placement-quality.md"]),
                  {"sizes": [] if smoke else sorted(sizes), "smoke": smoke, "instances": int(heft.group(1)),
                   "wins": int(heft.group(2)), "ties": int(heft.group(3)), "losses": int(heft.group(4)),
                   "geometric_mean": float(_search(r"geometric mean ([\d.]+)", text, what).group(1)),
                   "mean_gap_pct": float(gap.group(1)), "worst_gap_pct": float(gap.group(2))})


def plan_vs_check(recipe: str, size: int, repeat: int, timeout: float, logs: Path) -> Record:
    """CPU seconds of `mlc check` and `mlc plan` of one workflow over three sites."""
    args = ["--recipe", recipe, "--size", str(size), "--repeat", str(repeat)]
    rows = markdown_rows(_run(PLAN_VS_CHECK, args, logs / f"plan-check-{recipe}-{size}.log", timeout))
    if not rows:
        raise ProbeError(f"{_command(PLAN_VS_CHECK, args)}: no table")
    row = rows[0]
    return Record("plan-check", f"{recipe} {size}", _command(PLAN_VS_CHECK, args),
                  {"recipe": recipe, "size": size, "tasks": int(_cell(row, "tasks")),
                   "check_cpu_s": _cell(row, "check", "cpu"), "plan_cpu_s": _cell(row, "plan", "cpu")})


# --- the front end: bench/frontend.py and bench/fan_in.py ---------------------

FRONTEND = BENCH / "frontend.py"
FAN_IN = BENCH / "fan_in.py"


def frontend(name: str, size: int, mlx: Path, repeat: int, timeout: float, logs: Path) -> Record:
    """Parse against lark's floor, and tracemalloc's peak per file reference,
    of one file (bench/frontend.py's lines)."""
    args = [str(mlx), "--repeat", str(repeat), "--memory"]
    text = _run(FRONTEND, args, logs / f"frontend-{name}.log", timeout)
    values = {"size": size, **frontend_values(text, f"bench/frontend.py {mlx.name}")}
    shown = [str(mlx.relative_to(REPO)) if a == str(mlx) and mlx.is_relative_to(REPO) else a for a in args]
    return Record("frontend", name, _command(FRONTEND, shown), values)


def frontend_values(text: str, what: str) -> dict[str, float]:
    """The numbers of bench/frontend.py's output. `parse` is the front end's
    own parser; "lark parse", printed before it, is lark's path."""
    return {"references": int(_search(r"(\d+) file references", text, what).group(1)),
            "floor_s": float(_search(r"\bfloor\s+([\d.]+) s", text, what).group(1)),
            "parse_s": float(_search(r"(?<!lark )\bparse\s+([\d.]+) s", text, what).group(1)),
            "check_s": float(_search(r"\bcheck\s+([\d.]+) s", text, what).group(1)),
            "peak_mib": float(_search(r"(?<!load: )traced peak\s+([\d.]+) MiB", text, what).group(1)),
            "bytes_per_reference": float(_search(r"(?<!load: )traced peak\s+[\d.]+ MiB\s+([\d.]+) B per file "
                                                 r"reference", text, what).group(1)),
            "load_peak_mib": float(_search(r"load: traced peak\s+([\d.]+) MiB", text, what).group(1)),
            "load_bytes_per_reference": float(_search(r"load: traced peak\s+[\d.]+ MiB\s+([\d.]+) B per file "
                                                      r"reference", text, what).group(1))}


def fan_in(members: list[int], shapes: list[str], repeat: int, timeout: float, logs: Path) -> list[Record]:
    """`mlc check` CPU seconds of wide sweeps gathered by one stage."""
    args = ["--members", ",".join(map(str, members)), "--shapes", ",".join(shapes), "--repeat", str(repeat),
            "--timeout", f"{timeout:g}"]
    text = _run(FAN_IN, args, logs / "fan-in.log", timeout * repeat * len(members) * len(shapes), cwd=BENCH)
    records = []
    for found in re.finditer(r"^(\w+)\s+(\d+) members:\s+([\d.]+) s CPU\s+([\d.]+) MiB\s+(\S+)", text, re.MULTILINE):
        shape, count = found.group(1), int(found.group(2))
        records.append(Record("fan-in", f"{shape} {count}", _command(FAN_IN, args),
                              {"shape": shape, "members": count, "cpu_s": float(found.group(3)),
                             "peak_mib": float(found.group(4)), "status": found.group(5)}))
    if len(records) != len(members) * len(shapes):
        raise ProbeError(f"{_command(FAN_IN, args)}: {len(records)} results for "
                         f"{len(members) * len(shapes)} cases:\n{text[-2000:]}")
    return records
