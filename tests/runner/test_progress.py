"""Progress is read from the step records the generated rules leave in
.mlc/steps/ and from the done flags, never from Snakemake's log (whose
wording changes between versions: Snakemake 8.30 printed nothing the old
log patterns knew, and `mlc run` said "nothing to do" after running all)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.runner.cache_report import CacheNote
from compiler.runner.progress import Event, Progress, StepWatcher, scheduled_rules
from tests.conftest import ROOT


def _record(folder: Path, rule: str, state: str, mtime_ns: int) -> None:
    path = folder / ".mlc" / "steps" / rule
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(state + "\n")
    os.utime(path, ns=(mtime_ns, mtime_ns))


def _flag(folder: Path, rule: str, mtime_ns: int) -> None:
    path = folder / ".mlc" / "done" / rule
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_records_and_flags_become_events_once_each(tmp_path):
    watcher = StepWatcher(tmp_path, ["a", "b"])
    assert watcher.poll() == []
    _record(tmp_path, "a", "started", 10)
    assert watcher.poll() == [Event("start", "a")]
    assert watcher.poll() == []
    _flag(tmp_path, "a", 20)
    _record(tmp_path, "b", "started", 30)
    assert watcher.poll() == [Event("finish", "a"), Event("start", "b")]
    _record(tmp_path, "b", "failed", 40)
    assert watcher.poll() == [Event("error", "b")]
    _record(tmp_path, "b", "started", 50)  # Snakemake retries it
    _flag(tmp_path, "b", 60)
    assert watcher.poll() == [Event("start", "b"), Event("finish", "b")]
    assert watcher.poll() == []


def test_a_flag_older_than_the_start_is_not_a_finish(tmp_path):
    """A finished step rerun (its script changed) still has its old flag
    until Snakemake removes it: only a flag touched after the start counts."""
    _flag(tmp_path, "a", 10)
    watcher = StepWatcher(tmp_path, ["a"])
    _record(tmp_path, "a", "started", 20)
    assert watcher.poll() == [Event("start", "a")]
    _flag(tmp_path, "a", 30)
    assert watcher.poll() == [Event("finish", "a")]


def test_clear_forgets_an_earlier_run(tmp_path):
    _record(tmp_path, "a", "failed", 10)
    watcher = StepWatcher(tmp_path, ["a"])
    watcher.clear()
    assert watcher.poll() == []


def test_the_summary_table_names_the_scheduled_rules():
    summary = ("output_file\tdate\trule\tlog-file(s)\tstatus\tplan\n"
               ".mlc/done/a\tWed Dec  2 02:19:56 2026\ta\t.mlc/logs/a.log\tok\tno update\n"
               ".mlc/done/b\t-\tb\t.mlc/logs/b.log\tmissing\tupdate pending\n"
               ".mlc/done/c\tWed Dec  2 02:19:58 2026\tc\t.mlc/logs/c.log\tupdated input files\tupdate pending\n")
    assert scheduled_rules(summary) == {"b", "c"}
    assert scheduled_rules("Building DAG of jobs...\n" + summary.splitlines()[0]) == set()
    with pytest.raises(ValueError):
        scheduled_rules("Building DAG of jobs...\n")


def test_progress_lines_count_and_time():
    progress = Progress(units={"a": "a on the local site ws", "b": "b on Slurm hpc.cpu"}, total=2, clock=0.0)
    assert progress.on_event(Event("start", "a"), now=1.0) == "[0:00:01] 0/2  started  a on the local site ws"
    assert progress.on_event(Event("start", "all"), now=1.0) is None  # not a step of the experiment
    assert progress.on_event(Event("finish", "a"), now=66.0) == \
        "[0:01:06] 1/2  done     a on the local site ws (0:01:05)"
    assert progress.on_event(Event("start", "b"), now=70.0).endswith("started  b on Slurm hpc.cpu")
    assert progress.on_event(Event("error", "b"), now=3700.0) == \
        "[1:01:40] 1/2  FAILED   b on Slurm hpc.cpu (1:00:30)"
    assert progress.failed == ["b"] and progress.finished_now == 1


def test_a_step_run_again_is_counted_again():
    progress = Progress(units={"a": "a here"}, total=1, done=0, done_before={"a"}, clock=0.0)
    assert progress.on_event(Event("start", "a"), now=0.0) == \
        "[0:00:00] 0/1  started  a here (again: its script or an earlier step changed)"
    assert progress.on_event(Event("finish", "a"), now=0.0).startswith("[0:00:00] 1/1  done")


def test_a_step_whose_output_is_gone_says_so():
    progress = Progress(units={"a": "a here"}, total=1, done_before={"a"}, gone={"a": ["work/x.txt"]}, clock=0.0)
    assert progress.on_event(Event("start", "a"), now=0.0) == \
        "[0:00:00] 0/1  started  a here (again: work/x.txt is gone)"


def test_finished_steps_say_what_the_cache_did():
    notes = {"a": CacheNote(True, "re-used cached result 0123456789ab"), "b": CacheNote(False, "ran: params: n 1 -> 2")}
    progress = Progress(units={"a": "a here", "b": "b here", "c": "c here"}, total=3, clock=0.0,
                        cache_note=notes.get)
    assert progress.on_event(Event("finish", "a"), now=0.0).endswith("(0:00:00; re-used cached result 0123456789ab)")
    assert progress.on_event(Event("finish", "b"), now=0.0).endswith("(0:00:00; ran: params: n 1 -> 2)")
    assert progress.on_event(Event("finish", "c"), now=0.0).endswith("done     c here (0:00:00)")
    assert progress.cache_summary() == " (1 re-used from the cache, 1 ran)"


def _mlc_run(out: Path, path_dir: Path | None = None, *params: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path_dir is not None:
        env["PATH"] = f"{path_dir}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [sys.executable, "-m", "compiler.cli", "run", "examples/quickstart.mlx", "-o", str(out), "--cores", "2",
         *(w for p in params for w in ("-p", p))],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=env,
    )


def test_progress_does_not_read_snakemakes_log(tmp_path):
    """A Snakemake run that prints nothing at all (its log's wording is not
    mlc's to rely on) still gives every progress line and the right count."""
    real = shutil.which("snakemake")
    assert real, "snakemake is a dependency"
    silent = tmp_path / "bin"
    silent.mkdir()
    wrapper = silent / "snakemake"
    # Only the run is silenced: mlc asks `snakemake --summary` (a table)
    # which steps will run, before the run.
    wrapper.write_text(f'#!/bin/sh\ncase " $* " in *" --summary "*) exec "{real}" "$@";; esac\n'
                       f'exec "{real}" "$@" >/dev/null 2>&1\n')
    wrapper.chmod(0o755)
    result = _mlc_run(tmp_path / "out", silent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "done: 5 steps" in result.stdout, result.stdout
    for step in ("make_data", "score[slope=2.0]", "score[slope=3.0]", "score[slope=4.0]", "pick"):
        assert f"done     {step} on the local site laptop" in result.stdout
    assert result.stdout.count("started  ") == 5
    assert (tmp_path / "out/quickstart/.mlc/run.log").read_text() == ""  # the silent one ran


def test_a_changed_step_runs_again_and_is_said_so(tmp_path):
    assert _mlc_run(tmp_path).returncode == 0
    again = _mlc_run(tmp_path, None, "points=50")  # changes make_data's script: all five rerun
    assert again.returncode == 0, again.stdout + again.stderr
    assert "(0 of 5 steps already done)" in again.stdout
    assert "0/5  started  make_data on the local site laptop (again: its script or an earlier step changed)" in again.stdout
    assert "done: 5 steps" in again.stdout
    assert _mlc_run(tmp_path, None, "points=50").stdout.count("nothing to do: all 5 steps were already done") == 1
