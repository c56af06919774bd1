"""Measurements: the runs of one tool on one workload, their medians, and
the JSON file the report is written from (so that the tables can be
rewritten without measuring again)."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
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


def save(measurements: list[Measurement], context: dict, path: Path) -> None:
    doc = {"context": context, "measurements": [
        {**asdict(m), "runs": [{**asdict(r), "log": str(r.log) if r.log else None} for r in m.runs]}
        for m in measurements]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load(path: Path) -> tuple[list[Measurement], dict]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    measurements = []
    for entry in doc["measurements"]:
        runs = [Run(**{**r, "log": Path(r["log"]) if r["log"] else None}) for r in entry.pop("runs")]
        measurements.append(Measurement(**entry, runs=runs))
    return measurements, doc["context"]


def merge(old: tuple[list[Measurement], dict], new: tuple[list[Measurement], dict]
          ) -> tuple[list[Measurement], dict]:
    """The new measurements, plus the old ones they do not redo."""
    (old_measurements, old_context), (new_measurements, new_context) = old, new
    redone = {m.key for m in new_measurements}
    kept = [m for m in old_measurements if m.key not in redone]
    context = {**new_context, "invocations": old_context["invocations"] + new_context["invocations"]}
    return kept + new_measurements, context
