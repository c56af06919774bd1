"""Following a Snakemake run: its log lines become events (a rule started,
finished, failed), and events become the progress lines `mlc run` prints."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

_START = re.compile(r"^(?:local)?rule (\S+):$")
_FINISH = re.compile(r"^Finished jobid: \d+ \(Rule: (\S+)\)")
_ERROR = re.compile(r"^Error in rule (\S+):")


@dataclass(frozen=True)
class Event:
    kind: str  # "start" | "finish" | "error"
    rule: str


def parse_line(line: str) -> Event | None:
    line = line.strip()
    for kind, pattern in (("start", _START), ("finish", _FINISH), ("error", _ERROR)):
        m = pattern.match(line)
        if m:
            return Event(kind, m.group(1))
    return None


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

    def on_event(self, event: Event, now: float | None = None) -> str | None:
        what = self.units.get(event.rule)
        if what is None:  # the `all` target, or a rule mlc did not generate
            return None
        now = time.monotonic() if now is None else now
        elapsed = _clock(now - self.clock)
        if event.kind == "start":
            self.started_at[event.rule] = now
            return f"[{elapsed}] {self.done}/{self.total}  started  {what}"
        took = _clock(now - self.started_at.get(event.rule, now))
        if event.kind == "finish":
            self.done += 1
            self.finished_now += 1
            return f"[{elapsed}] {self.done}/{self.total}  done     {what} ({took})"
        self.failed.append(event.rule)
        return f"[{elapsed}] {self.done}/{self.total}  FAILED   {what} ({took})"


class JobStats:
    """The first "Job stats" table Snakemake prints (a real run prints it
    before starting, a dry run instead of starting): the rules it is going
    to run, which include finished ones whose script changed since."""

    def __init__(self) -> None:
        self._rows: list[str] | None = None
        self.rules: set[str] | None = None  # known once the table has ended

    def feed(self, line: str) -> bool:
        """Reads one line of output; True when it completed the table."""
        if self.rules is not None:
            return False
        text = line.strip()
        if self._rows is None:
            if text == "Job stats:":
                self._rows = []
            return False
        if text:
            self._rows.append(text)
            return False
        # A blank line ends the table: a header, dashes, a `rule count` row
        # per rule and a `total` row (a rule may be called `total` too).
        self.rules = {row.split()[0] for row in self._rows[2:-1]}
        return True


def scheduled_rules(output: str) -> set[str]:
    """The rules Snakemake's output says it runs (none: nothing to do)."""
    stats = JobStats()
    for line in [*output.splitlines(), ""]:  # the blank line closes a table left open
        if stats.feed(line):
            break
    return stats.rules or set()


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
