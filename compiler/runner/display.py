"""How `mlc run` shows its progress: the events come from the step records
(progress.StepWatcher), their meaning from progress.Progress; a display only
presents them, three ways.

- Lines: one line per step started, done or failed (not a terminal: logs, CI).
- Live: one status line rewritten in place with `\\r` (a terminal), with a
  failed step, and any other message, printed above it for good.
- Json: one JSON object per line on stdout per event (`mlc run --format
  json`, for other tools); everything meant for people goes to stderr.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from typing import TextIO

from .progress import Event, Progress

# The live line is redrawn at most this often when nothing happens (its clock runs).
TICK_SECONDS = 1.0


class Lines:
    """Plain lines, as when stdout is a file or a pipe."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def say(self, text: str) -> None:
        """A message for people (what ran, where results are)."""
        print(text, file=self.out, flush=True)

    def warn(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def run_start(self, progress: Progress, experiment: str, folder: str, scheduled: list[str]) -> None:
        self.say(f"running {experiment} in {folder} ({progress.done} of {progress.total} steps already done)")

    def step(self, event: Event, progress: Progress, line: str) -> None:
        self.say(line)

    def tick(self, progress: Progress) -> None:
        """Called on every poll, whether or not anything happened."""

    def run_end(self, progress: Progress, status: int, outcome: str, elapsed: float, run_id: str | None) -> None:
        """The run is over; the closing lines are said before this."""


class Live(Lines):
    """A terminal: one status line, rewritten in place."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, width: int | None = None) -> None:
        super().__init__(out, err)
        self.width = width
        self.shown = False  # the status line is on screen, the cursor at its end
        self.drawn_at = float("-inf")

    def _clear(self) -> None:
        if self.shown:
            self.out.write("\r\x1b[K")
            self.out.flush()
            self.shown = False

    def _draw(self, progress: Progress) -> None:
        width = self.width or shutil.get_terminal_size().columns
        line = progress.status_line()
        if len(line) >= width:  # a wrapped line cannot be rewritten with \r
            line = line[: max(width - 2, 0)] + "…"
        self.out.write("\r\x1b[K" + line)
        self.out.flush()
        self.shown = True
        self.drawn_at = time.monotonic()

    def say(self, text: str) -> None:
        self._clear()
        super().say(text)

    def warn(self, text: str) -> None:
        self._clear()
        super().warn(text)

    def step(self, event: Event, progress: Progress, line: str) -> None:
        if event.kind == "error":  # a failure stays on screen
            self.say(line)
        self._draw(progress)

    def tick(self, progress: Progress) -> None:
        if time.monotonic() - self.drawn_at >= TICK_SECONDS:
            self._draw(progress)

    def run_end(self, progress: Progress, status: int, outcome: str, elapsed: float, run_id: str | None) -> None:
        self._clear()


class Json(Lines):
    """`mlc run --format json`: one JSON object per event on stdout
    (docs/running.md lists the fields); messages for people on stderr."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        super().__init__(out, err)

    def _emit(self, event: str, **fields) -> None:
        print(json.dumps({"event": event, "time": round(time.time(), 3), **fields}), file=self.out, flush=True)

    def say(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def run_start(self, progress: Progress, experiment: str, folder: str, scheduled: list[str]) -> None:
        self._emit("run-start", experiment=experiment, folder=folder, total=progress.total, done=progress.done,
                   scheduled=scheduled)

    def step(self, event: Event, progress: Progress, line: str) -> None:
        kind = {"start": "step-start", "finish": "step-finish", "error": "step-error"}[event.kind]
        fields = {"rule": event.rule, "step": progress.units[event.rule], "done": progress.done,
                  "total": progress.total, "running": len(progress.running), "failed": len(progress.failed)}
        if event.kind != "start":
            fields["seconds"] = round(progress.took(event.rule), 3)
        if event.kind == "finish" and progress.last_note is not None and progress.last_note.reused:
            kind = "step-reused"  # finished without running: its result came from the cache
        self._emit(kind, **fields)

    def run_end(self, progress: Progress, status: int, outcome: str, elapsed: float, run_id: str | None) -> None:
        self._emit("run-end", status=status, outcome=outcome, seconds=round(elapsed, 3), done=progress.done,
                   total=progress.total, finished=progress.finished_now, ran=progress.finished_now - progress.reused, reused=progress.reused,
                   failed=list(progress.failed), run_id=run_id)


def choose(fmt: str, out: TextIO | None = None) -> Lines:
    """The display for `mlc run --format FMT` writing to `out` (stdout)."""
    out = out or sys.stdout
    if fmt == "json":
        return Json(out)
    if out.isatty() and os.environ.get("TERM", "") != "dumb":
        return Live(out)
    return Lines(out)
