"""Measurements: the runs of one tool on one workload, their medians, and
the JSON file the report is written from (so that the tables can be
rewritten without measuring again). Records: the numbers a benchmark
script prints (placement CPU, parse against lark's floor, the language
server's latency...), read from its output and kept the same way."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .measure import Run


@dataclass
class Measurement:
    phase: str  # "check", "compile" or "sweep" (recipe: the kind of site)
    recipe: str
    size: int  # tasks asked for
    tasks: int  # tasks generated
    references: int  # file inputs plus outputs: some recipes grow them faster than tasks
    tool: str
    timeout: float
    runs: list[Run] = field(default_factory=list)
    when: str | None = None  # when it was measured ("2026-12-02 14:30 UTC"); older files have none

    @property
    def key(self) -> tuple[str, str, int, str]:
        return self.phase, self.recipe, self.size, self.tool

    def _ok(self) -> list[Run]:
        return [r for r in self.runs if r.status == "ok"]

    @property
    def status(self) -> str:
        """"ok" when every run succeeded, else the first other status;
        "not run" when what it needed (an `mlc compile`) never succeeded."""
        if not self.runs:
            return "not run"
        return next((r.status for r in self.runs if r.status != "ok"), "ok")

    def median(self, attribute: str) -> float | None:
        ok = self._ok()
        if not ok or self.status != "ok":
            return None
        return statistics.median(getattr(r, attribute) for r in ok)

    @property
    def seconds(self) -> float | None:
        return self.median("seconds")

    @property
    def cpu_seconds(self) -> float | None:
        return self.median("cpu_seconds")

    @property
    def peak_mib(self) -> float | None:
        return self.median("peak_mib")

    @property
    def cpu_seconds_when_killed(self) -> float | None:
        """The least CPU time a run killed by the timeout had used by then
        (a lower bound of the whole run's); None when no run was killed or
        it was recorded without it."""
        used = [r.cpu_seconds for r in self.runs if r.status == "timeout" and r.cpu_seconds]
        return min(used) if used else None


@dataclass(frozen=True)
class Record:
    """What one benchmark script reported about one case, e.g. phase
    "placement", name "srasearch medium 5000", values {"tasks": 4998,
    "cpu_s": 0.61, ...}; `command` runs it again."""
    phase: str
    name: str
    command: str
    values: dict = field(default_factory=dict)
    when: str | None = None  # as Measurement.when

    @property
    def key(self) -> tuple[str, str]:
        return self.phase, self.name


@dataclass
class Results:
    measurements: list[Measurement]
    context: dict
    records: list[Record] = field(default_factory=list)


def save(results: Results, path: Path) -> None:
    doc = {"context": results.context, "measurements": [
        {**asdict(m), "runs": [{**asdict(r), "log": str(r.log) if r.log else None} for r in m.runs]}
        for m in results.measurements],
        "records": [asdict(r) for r in results.records]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load(path: Path) -> Results:
    doc = json.loads(path.read_text(encoding="utf-8"))
    measurements = []
    for entry in doc["measurements"]:
        runs = [Run(**{**r, "log": Path(r["log"]) if r["log"] else None}) for r in entry.pop("runs")]
        measurements.append(Measurement(**entry, runs=runs))
    records = [Record(**entry) for entry in doc.get("records", [])]  # older files have none
    return Results(measurements, doc["context"], records)


def stamped(new: Results, when: str) -> Results:
    """The same results, each measurement and record dated `when`."""
    measurements = [replace(m, when=when) for m in new.measurements]
    return Results(measurements, new.context, [replace(r, when=when) for r in new.records])


def merge(old: Results, new: Results) -> Results:
    """The new measurements and records, plus the old ones they do not redo."""
    redone = {m.key for m in new.measurements}
    kept = [m for m in old.measurements if m.key not in redone]
    rewritten = {r.key for r in new.records}
    records = [r for r in old.records if r.key not in rewritten] + new.records
    context = {**new.context, "invocations": old.context["invocations"] + new.context["invocations"]}
    return Results(kept + new.measurements, context, records)
