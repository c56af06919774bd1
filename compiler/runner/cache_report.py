"""What the result cache did for each step, for `mlc run`'s progress lines:
the step's script (through local/step_cache.py) writes one `mlc-cache:`
line to its log, `re-used <key>` or `running <key>: <why>` (then `stored`).
Steps without a cache (services, other sites' jobs) have no such line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PREFIX = "mlc-cache: "


@dataclass(frozen=True)
class CacheNote:
    reused: bool
    text: str  # for the progress line


def note(outdir: Path, rule: str) -> CacheNote | None:
    try:
        lines = (outdir / ".mlc" / "logs" / f"{rule}.log").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if line.startswith(PREFIX + "re-used "):
            key = line[len(PREFIX + "re-used "):].split(" ", 1)[0]
            return CacheNote(True, f"re-used cached result {key}")
        if line.startswith(PREFIX + "running "):
            why = line[len(PREFIX + "running "):].partition(": ")[2]
            return CacheNote(False, f"ran: {why}")
    return None


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
