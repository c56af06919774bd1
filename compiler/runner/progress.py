"""Following a run: the step records and done flags the generated rules
leave in .mlc/ become events (a step started, finished, failed), and events
become the progress lines `mlc run` prints.

Each rule writes `started` (and, when its command fails, `failed`) to
.mlc/steps/<rule>; Snakemake touches .mlc/done/<rule> when the step
succeeded. These files are mlc's own, so the runner reads the same thing
whatever Snakemake version runs the workflow (its log's wording is not)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..backends.snakefile import STEP_RECORDS
from .cache_report import CacheNote


@dataclass(frozen=True)
class Event:
    kind: str  # "start" | "finish" | "error"
    rule: str


class StepWatcher:
    """Turns the records of one run into events, each once. Call `clear()`
    before the workflow starts (the records of an earlier run are stale),
    then `poll()` as often as progress should be shown."""

    def __init__(self, outdir: Path, rules: list[str]) -> None:
        self.records = outdir / STEP_RECORDS
        self.flags = outdir / ".mlc" / "done"
        self.rules = rules
        self._seen: dict[str, tuple[str, int]] = {}  # rule -> (record, its mtime) last reported
        self._finished: set[str] = set()

    def clear(self) -> None:
        for rule in self.rules:
            (self.records / rule).unlink(missing_ok=True)

    def poll(self) -> list[Event]:
        events = []
        for rule in self.rules:
            record = _read(self.records / rule)
            if record is None:
                continue
            state, changed = record
            if self._seen.get(rule) != record:
                self._seen[rule] = record
                self._finished.discard(rule)  # a retry starts the step again
                events.append(Event("start" if state == "started" else "error", rule))
            if state == "started" and rule not in self._finished and _flag_since(self.flags / rule, changed):
                self._finished.add(rule)
                events.append(Event("finish", rule))
        return events


def _read(path: Path) -> tuple[str, int] | None:
    try:
        mtime = path.stat().st_mtime_ns
        state = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return (state, mtime) if state in ("started", "failed") else None


def _flag_since(flag: Path, started: int) -> bool:
    """The done flag was touched after the step started (Snakemake removes
    an old flag before it reruns a step, and touches it on success)."""
    try:
        return flag.stat().st_mtime_ns >= started
    except OSError:
        return False


@dataclass
class Progress:
    """What has happened so far; `on_event` returns the line to print."""

    units: dict[str, str]  # rule name -> what it runs and where
    total: int
    done: int = 0
    finished_now: int = 0  # steps this run finished
    started_at: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    clock: float = field(default_factory=time.monotonic)
    done_before: set[str] = field(default_factory=set)  # finished earlier, not counted in `done`, run again
    gone: dict[str, list[str]] = field(default_factory=dict)  # rule -> its outputs found missing before the run
    cache_note: Callable[[str], CacheNote | None] = lambda rule: None  # what the result cache did
    reused: int = 0  # finished steps whose result came from the cache
    ran: int = 0  # finished steps whose command ran (no cached result)
    running: list[str] = field(default_factory=list)  # started, not finished nor failed, oldest first
    last_note: CacheNote | None = None  # what the cache did for the step that finished last

    def on_event(self, event: Event, now: float | None = None) -> str | None:
        what = self.units.get(event.rule)
        if what is None:  # the `all` target, or a rule mlc did not generate
            return None
        now = time.monotonic() if now is None else now
        elapsed = _clock(now - self.clock)
        if event.rule in self.running:
            self.running.remove(event.rule)
        if event.kind == "start":
            self.started_at[event.rule] = now
            self.running.append(event.rule)
            if event.rule in self.failed:  # Snakemake retries it
                self.failed.remove(event.rule)
            again = ""
            if event.rule in self.done_before:  # a finished step whose script changed
                self.done_before.discard(event.rule)
                again = _again(self.gone.get(event.rule, []))
            return f"[{elapsed}] {self.done}/{self.total}  started  {what}{again}"
        took = _clock(now - self.started_at.get(event.rule, now))
        if event.kind == "finish":
            self.done += 1
            self.finished_now += 1
            cached = self.last_note = self.cache_note(event.rule)
            self.reused += bool(cached and cached.reused)
            self.ran += bool(cached and not cached.reused)
            return f"[{elapsed}] {self.done}/{self.total}  done     {what} ({took}{'; ' + cached.text if cached else ''})"
        self.failed.append(event.rule)
        return f"[{elapsed}] {self.done}/{self.total}  FAILED   {what} ({took})"

    def status_line(self, now: float | None = None) -> str:
        """The one-line state of the run: `[0:01:12] 3/10 done, 2 running,
        0 failed: train[lr=0.1] on charisma` (the step started last)."""
        now = time.monotonic() if now is None else now
        line = (f"[{_clock(now - self.clock)}] {self.done}/{self.total} done, {len(self.running)} running, "
                f"{len(self.failed)} failed")
        return f"{line}: {self.units[self.running[-1]]}" if self.running else line

    def took(self, rule: str, now: float | None = None) -> float:
        """Seconds since the rule's step started (0 when it was not seen starting)."""
        now = time.monotonic() if now is None else now
        return now - self.started_at.get(rule, now)

    def cache_summary(self) -> str:
        """` (3 re-used from the cache, 1 ran)` for the closing line; empty
        when no finished step went through the cache."""
        if not self.reused and not self.ran:
            return ""
        return f" ({self.reused} re-used from the cache, {self.ran} ran)"


def scheduled_rules(summary: str) -> set[str]:
    """The rules `snakemake --summary` plans to run: its output is a
    tab-separated table with a header row (the same columns in Snakemake 8
    and 9), one row per output file; `plan` is `update pending` for a step
    that will run, including a finished one whose script changed since."""
    lines = summary.splitlines()
    header = next((i for i, line in enumerate(lines) if line.startswith("output_file\t")), len(lines))
    rows = csv.DictReader(io.StringIO("\n".join(lines[header:])), delimiter="\t")
    if not rows.fieldnames or not {"rule", "plan"} <= set(rows.fieldnames):
        raise ValueError("snakemake --summary printed no table")
    return {row["rule"] for row in rows if (row.get("plan") or "").strip() == "update pending"}


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _again(gone: list[str]) -> str:
    """Why a finished step runs again: results gone (or, marked so by
    runner/results.py, changed after the step), else its script changed."""
    from .results import CHANGED

    changed = [path for path in gone if path.endswith(CHANGED)]
    missing = [path for path in gone if path not in changed]
    reasons = []
    if missing:
        reasons.append(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} gone")
    if changed:
        reasons.append(", ".join(changed))
    return f" (again: {'; '.join(reasons)})" if reasons else " (again: its script or an earlier step changed)"
