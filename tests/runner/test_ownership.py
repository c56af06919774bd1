"""A run killed outright (mlc and Snakemake both, SIGKILL) leaves Snakemake's
lock behind: the next `mlc run` clears it, because the run that took it is
recorded in .mlc/run.owner and is gone. A live run's lock is never cleared,
and a lock mlc did not take (Snakemake run by hand) is left alone. Real
processes throughout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compiler.runner import ownership
from tests.conftest import ROOT

SLOW = """\
experiment slow_local {
  description = "one step that sleeps"
}

param secs: int = 60

site here : local {
  cpus = 1
  memory = 1GiB
}

stage wait {
  out done = file("done.txt", size = 1KB)
  cpus = 1
  memory = 64MiB
  time = 5m
  estimate = 1s
  run = "sleep ${secs}; echo slept > ${out.done}"
}
"""


def _command(source: Path, out: Path, *params: str) -> list[str]:
    return [sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(out),
            *(w for p in params for w in ("-p", p))]


def _run(source: Path, out: Path, *params: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(source, out, *params), cwd=ROOT, capture_output=True, text=True, timeout=300)


def _start(source: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(_command(source, out), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _wait_until(condition, what: str, process: subprocess.Popen[str], timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            pytest.fail(f"`mlc run` ended ({process.returncode}) before {what}:\n{process.communicate()}")
        time.sleep(0.2)
    pytest.fail(f"gave up after {timeout} s waiting for {what}")


def _snakemake_in(folder: Path) -> list[int]:
    """The Snakemake processes working in `folder`, found the way a user
    would (ps), independent of what mlc records."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cwd == str(folder) and any(b"snakemake" in word for word in cmdline[:2]):
            pids.append(int(entry.name))
    return pids


def _gone(pid: int) -> bool:
    return ownership.Process.of(pid) is None


@pytest.fixture
def slow(tmp_path) -> tuple[Path, Path, Path]:
    source = tmp_path / "slow.mlx"
    source.write_text(SLOW)
    out = tmp_path / "out"
    return source, out, out / "slow_local"


def _started(folder: Path) -> bool:
    return (folder / ".mlc/steps/wait").is_file() and ownership.locked(folder)


def test_a_run_killed_outright_leaves_a_lock_the_next_run_clears(slow):
    source, out, folder = slow
    run = _start(source, out)
    try:
        _wait_until(lambda: _started(folder), "the step to start", run)
        snakemakes = _snakemake_in(folder)
        assert snakemakes, "no Snakemake process found"
        run.kill()
        for pid in snakemakes:  # Snakemake's session: its jobs too
            os.killpg(pid, signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 30
        while not all(_gone(pid) for pid in snakemakes) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert ownership.locked(folder), "Snakemake's lock should have outlived the killed run"
    again = _run(source, out, "secs=0")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "cleared the lock left by an earlier run that was killed" in again.stdout
    assert "done: 1 step" in again.stdout
    assert not (folder / ownership.RECORD).exists()


def test_a_live_run_is_never_unlocked(slow):
    source, out, folder = slow
    first = _start(source, out)
    try:
        _wait_until(lambda: _started(folder), "the step to start", first)
        script = (folder / "local/here/wait.sh").read_text()
        second = _run(source, out, "secs=1")  # another value: another script
        assert second.returncode == 1, second.stdout + second.stderr
        assert "is in use by another run" in second.stderr
        assert (folder / "local/here/wait.sh").read_text() == script  # not recompiled under the live run
        assert ownership.locked(folder) and first.poll() is None
        assert (folder / ".mlc/steps/wait").read_text() == "started\n"  # the live run's records stay
    finally:
        first.send_signal(signal.SIGTERM)  # stops it the way Ctrl-C does
        first.communicate(timeout=120)
    assert first.returncode == 130
    assert not ownership.locked(folder) and not (folder / ownership.RECORD).exists()


def test_a_lock_mlc_did_not_take_is_left_alone(slow):
    source, out, folder = slow
    assert _run(source, out, "secs=0").returncode == 0
    # As a Snakemake run by hand and killed leaves it: the files it writes.
    lock = folder / ".snakemake/locks/0.output.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(".mlc/done/wait\n")
    result = _run(source, out, "secs=1")
    assert result.returncode == 1
    assert lock.exists()
    assert "cleared the lock" not in result.stdout


def test_sigint_stops_a_run_started_with_sigint_ignored(slow):
    """`mlc run &` in a script starts mlc with SIGINT ignored (and Python
    then leaves it so); `kill -INT` must still stop the run, its Snakemake
    and the steps, and leave no lock."""
    source, out, folder = slow
    run = subprocess.Popen(_command(source, out), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        _wait_until(lambda: _started(folder), "the step to start", run)
        snakemakes = _snakemake_in(folder)
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 130, err
    assert "stopped; `mlc run` again resumes where this run ended" in err
    assert all(_gone(pid) for pid in snakemakes)
    assert not ownership.locked(folder)
