"""How `mlc run` shows progress: a status line rewritten in place on a
terminal, plain lines otherwise, and with --format json one JSON object per
event on stdout (parsed here from a real run)."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys

from compiler.runner.cache_report import CacheNote
from compiler.runner.display import Json, Lines, Live, choose
from compiler.runner.progress import Event, Progress
from tests.conftest import ROOT


def _progress(**given) -> Progress:
    return Progress(units={"a": "a on the local site ws", "b": "train[lr=0.1] on charisma"}, total=10, done=3,
                    clock=0.0, **given)


def test_the_status_line_counts_and_names_the_latest_step():
    progress = _progress()
    assert progress.status_line(now=72.0) == "[0:01:12] 3/10 done, 0 running, 0 failed"
    progress.on_event(Event("start", "a"), now=1.0)
    progress.on_event(Event("start", "b"), now=2.0)
    assert progress.status_line(now=72.0) == \
        "[0:01:12] 3/10 done, 2 running, 0 failed: train[lr=0.1] on charisma"
    progress.on_event(Event("error", "b"), now=3.0)
    progress.on_event(Event("finish", "a"), now=4.0)
    assert progress.status_line(now=72.0) == "[0:01:12] 4/10 done, 0 running, 1 failed"


def test_a_terminal_gets_one_line_rewritten_and_failures_kept():
    out = io.StringIO()
    live, progress = Live(out, io.StringIO(), width=200), _progress()
    for kind, rule in (("start", "a"), ("start", "b"), ("finish", "a")):
        live.step(Event(kind, rule), progress, progress.on_event(Event(kind, rule), now=1.0))
    assert "\n" not in out.getvalue()  # the same line each time
    assert out.getvalue().count("\r\x1b[K") == 3
    assert out.getvalue().endswith("4/10 done, 1 running, 0 failed: train[lr=0.1] on charisma")
    live.step(Event("error", "b"), progress, progress.on_event(Event("error", "b"), now=2.0))
    assert "FAILED   train[lr=0.1] on charisma (0:00:01)\n" in out.getvalue()  # stays on screen
    live.say("recorded run r1")
    assert out.getvalue().endswith("\r\x1b[Krecorded run r1\n")
    narrow = io.StringIO()
    Live(narrow, width=20)._draw(progress)
    assert len(narrow.getvalue().split("\r\x1b[K")[-1]) < 20  # never wraps


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    assert type(choose("text", out)) is Lines and type(choose("json", out)) is Json
    progress = _progress()
    display = choose("text", out)
    display.step(Event("start", "a"), progress, progress.on_event(Event("start", "a"), now=1.0))
    assert out.getvalue() == "[0:00:01] 3/10  started  a on the local site ws\n"


def test_json_events_carry_their_fields():
    out, err = io.StringIO(), io.StringIO()
    display = Json(out, err)
    progress = _progress(cache_note={"a": CacheNote(True, "re-used cached result 0123")}.get)
    display.run_start(progress, "exp", "out/exp", ["a", "b"])
    for kind, rule in (("start", "a"), ("finish", "a"), ("start", "b"), ("error", "b")):
        display.step(Event(kind, rule), progress, progress.on_event(Event(kind, rule), now=5.0))
    display.say("for people")
    display.run_end(progress, 1, "failed", 9.5, "r1")
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["run-start", "step-start", "step-reused", "step-start", "step-error",
                                            "run-end"]
    assert events[0]["scheduled"] == ["a", "b"] and events[0]["total"] == 10
    assert events[4]["rule"] == "b" and events[4]["failed"] == 1 and "seconds" in events[4]
    assert {k: events[-1][k] for k in ("status", "outcome", "done", "finished", "ran", "reused", "failed",
                                        "run_id")} == {"status": 1, "outcome": "failed", "done": 4, "finished": 1,
                                                       "ran": 0, "reused": 1, "failed": ["b"], "run_id": "r1"}
    assert err.getvalue() == "for people\n"


def _mlc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_mlc_run_format_json_streams_events(tmp_path):
    result = _mlc("run", "examples/quickstart.mlx", "-o", str(tmp_path), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]  # every line is one JSON object
    assert events[0]["event"] == "run-start" and events[0]["total"] == 5 and events[0]["done"] == 0
    assert sum(e["event"] == "step-start" for e in events) == 5
    assert sum(e["event"] == "step-finish" for e in events) == 5
    end = events[-1]
    assert end["event"] == "run-end" and (end["status"], end["outcome"], end["done"], end["finished"]) == \
        (0, "completed", 5, 5)
    assert end["run_id"] and "recorded run " + end["run_id"] in result.stderr
    assert "done: 5 steps" in result.stderr
    # Only what no unit reads or waits for is a result: the last stage's output.
    listed = result.stderr.split("results:\n", 1)[1].split("\n")
    assert [line.split(":")[0].strip() for line in listed if line.startswith("  ")] == ["pick.best"]
    again = _mlc("run", "examples/quickstart.mlx", "-o", str(tmp_path), "--format", "json")
    events = [json.loads(line) for line in again.stdout.splitlines()]
    assert [e["event"] for e in events] == ["run-start", "run-end"] and events[-1]["run_id"] is None


def test_on_a_terminal_mlc_run_rewrites_its_status_line(tmp_path):
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "compiler.cli", "run", "examples/quickstart.mlx", "-o",
                                 str(tmp_path)], cwd=ROOT, stdout=follower, stderr=subprocess.PIPE,
                                env={**os.environ, "TERM": "xterm", "COLUMNS": "200"})
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the run closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        assert proc.wait(timeout=600) == 0, proc.stderr.read()
    finally:
        os.close(leader)
    text = shown.decode()
    assert "\r\x1b[K[0:00:0" in text and " done, " in text and " running, 0 failed" in text
    assert "started  " not in text  # no line per step
    assert "done: 5 steps" in text
