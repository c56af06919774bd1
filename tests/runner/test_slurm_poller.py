"""The Slurm site poller (compiler/runner/slurm_poller.py, copied as
slurm/poller.py): what it reads from squeue, and that a lost connection to
the login host delays the answer without ending anyone's wait. ssh and
squeue are stand-ins on PATH here; tests/slurm/test_poller.py runs it
against the real cluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from compiler.runner import slurm_poller
from compiler.runner.slurm_poller import ENDED, states_of


def test_squeue_lines_become_states_and_an_unlisted_job_has_ended():
    lines = ["12 RUNNING", "13_4 COMPLETING", "13_[5-7%2] PENDING", "14_1 PENDING", "14_2 RUNNING", ""]
    assert states_of(["12", "13", "14", "15"], 0, lines) == {
        "12": "RUNNING", "13": "COMPLETING", "14": "RUNNING", "15": ENDED}


def test_a_forgotten_single_job_has_ended_and_other_failures_are_asked_again():
    forgotten = ["slurm_load_jobs error: Invalid job id specified"]
    assert states_of(["12"], 1, forgotten) == {"12": ENDED}
    assert states_of(["12"], 1, ["slurm_load_jobs error: Socket timed out on send/recv operation"]) is None


def _stand_ins(bin_dir: Path, down: Path, queued: Path) -> None:
    """ssh fails (exit 255) while `down` exists, else runs the command here;
    squeue lists job 7 as RUNNING while `queued` exists."""
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text(textwrap.dedent(f"""\
        #!/usr/bin/env bash
        echo ssh >> {bin_dir}/ssh.calls
        if [[ -e {down} ]]; then echo "ssh: connect to host login: Connection refused" >&2; exit 255; fi
        while [[ $1 == -* ]]; do case $1 in -o) shift 2 ;; --) shift; break ;; *) shift ;; esac; done
        shift
        exec sh -c "$*"
        """))
    (bin_dir / "squeue").write_text(f"#!/bin/sh\necho \"$*\" >> {bin_dir}/squeue.calls\n"
                                    f"[ -e {queued} ] && echo '7 RUNNING'\nexit 0\n")
    for name in ("ssh", "squeue"):
        (bin_dir / name).chmod(0o755)


def _wait_for(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout:.0f} s for {what}")


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return found


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def test_a_lost_connection_is_reopened_and_the_waits_go_on(tmp_path):
    down, queued = tmp_path / "down", tmp_path / "queued"
    _stand_ins(tmp_path / "bin", down, queued)
    polls = tmp_path / "poll"
    (polls / "jobs").mkdir(parents=True)
    (polls / "jobs" / "7").write_text(f"{os.getpid()}\n")  # this test waits for job 7
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
           "MLC_POLL_MIN": "0.2", "MLC_POLL_MAX": "0.4", "MLC_POLL_LINGER": "1"}
    queued.touch()
    down.touch()
    poller = subprocess.Popen([sys.executable, slurm_poller.__file__, "serve", str(polls), "login"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        state, link = polls / "state" / "7", polls / "link"
        _wait_for(lambda: "Connection refused" in _read(link) or "connection ended" in _read(link), "the link file")
        assert _read(state) == "", "no state is made up while the cluster cannot be asked"
        down.unlink()  # the login host answers again
        _wait_for(lambda: _read(state) == "RUNNING", "RUNNING")
        assert not link.exists()
        # While the connection holds, every query goes over it: no new ssh.
        connections, queries = (len(_lines(tmp_path / "bin" / name)) for name in ("ssh.calls", "squeue.calls"))
        time.sleep(2)
        assert len(_lines(tmp_path / "bin" / "ssh.calls")) == connections
        assert len(_lines(tmp_path / "bin" / "squeue.calls")) >= queries + 3
        down.touch()  # the connection drops while the job runs, and cannot be made again
        for child in _children(poller.pid):
            os.kill(child, signal.SIGKILL)
        _wait_for(link.exists, "the link file again")
        queued.unlink()  # the job ends meanwhile: nobody can tell yet
        time.sleep(1)
        assert _read(state) == "RUNNING"
        down.unlink()
        _wait_for(lambda: _read(state) == ENDED, "ENDED")
        (polls / "jobs" / "7").unlink()  # the step read it and stopped waiting
        output, _ = poller.communicate(timeout=60)
    finally:
        if poller.poll() is None:
            poller.kill()
            poller.communicate()
    assert poller.returncode == 0, output
    assert "cannot ask the cluster" in output and "the cluster answers again" in output
    assert not (polls / "state" / "7").exists()
    assert set(_lines(tmp_path / "bin" / "squeue.calls")) == {"-h -j 7 -o %i %T"}


def test_registrations_of_dead_steps_are_dropped_and_the_poller_exits(tmp_path):
    polls = tmp_path / "poll"
    (polls / "jobs").mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (polls / "jobs" / "8").write_text(f"{dead.pid}\n")
    env = {**os.environ, "MLC_POLL_LINGER": "0.5"}
    result = subprocess.run([sys.executable, slurm_poller.__file__, "serve", str(polls), ""], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (polls / "jobs" / "8").exists()
    assert "no job to watch" in result.stdout
