"""What the result cache did for each step, for `mlc run`'s progress lines:
the step's script (through its copy of runner/step_cache.py) writes one
`mlc-cache:` line per stage instance to its log, `re-used <key>` or
`running <key>: <why>` (then `stored`): a local or ssh step as it runs, a
Slurm job's tasks through slurm/cache_notes.sh once the job ended. Steps
without a cache (services, Kubernetes workloads) have no such line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PREFIX = "mlc-cache: "


@dataclass(frozen=True)
class CacheNote:
    reused: bool
    text: str  # for the progress line


def note(outdir: Path, rule: str) -> CacheNote | None:
    """What the cache did for the rule's step; for a job array (several
    `mlc-cache:` lines, one per task, fetched from the cluster) the sum:
    re-used only when every task re-used its result."""
    try:
        lines = (outdir / ".mlc" / "logs" / f"{rule}.log").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    reused, ran = [], []
    for line in lines:
        if line.startswith(PREFIX + "re-used "):
            reused.append(line[len(PREFIX + "re-used "):].split(" ", 1)[0])
        elif line.startswith(PREFIX + "running "):
            ran.append(line[len(PREFIX + "running "):].partition(": ")[2])
    if not reused and not ran:
        return None
    if len(reused) + len(ran) == 1:
        return CacheNote(True, f"re-used cached result {reused[0]}") if reused else CacheNote(False, f"ran: {ran[0]}")
    if not ran:
        return CacheNote(True, f"re-used {len(reused)} cached results")
    return CacheNote(False, f"{len(ran)} ran ({ran[0]}), {len(reused)} re-used")


def missing_outputs(summary: str) -> dict[str, list[str]]:
    """rule -> its outputs `snakemake --summary` reports missing (the
    `status` column), for saying why a finished step runs again."""
    missing: dict[str, list[str]] = {}
    lines = summary.splitlines()
    header = next((i for i, line in enumerate(lines) if line.startswith("output_file\t")), None)
    if header is None:
        return missing
    columns = lines[header].split("\t")
    if not {"rule", "status", "output_file"} <= set(columns):
        return missing
    for line in lines[header + 1:]:
        row = dict(zip(columns, line.split("\t")))
        if row.get("status") == "missing" and not row.get("output_file", "").startswith(".mlc/"):
            missing.setdefault(row["rule"], []).append(row["output_file"])
    return missing
