"""One poller per Slurm site: watches every job the site's steps wait for
with one batched `squeue` over one connection, so that N waiting steps cost
slurmctld one request per interval instead of N a second.

Standard library only: the compiler copies this file into the output folder
(slurm/poller.py), so the workflow runs with plain Snakemake. Two commands:

  python3 poller.py ensure DIR LOGIN   start a poller for DIR unless one runs
  python3 poller.py serve DIR LOGIN    be that poller (ensure starts it)

DIR (`.mlc/poll/<site>` in the output folder) is all the steps and the
poller share, on this machine:

  DIR/jobs/<id>   a step waits for job <id>; the file holds the step's pid
  DIR/state/<id>  the job's state as squeue last said it (PENDING, RUNNING,
                  ...), `ENDED` once squeue no longer lists it
  DIR/link        present while the cluster cannot be asked (why, in it)
  DIR/lock        held (flock) by the one running poller
  DIR/log         what the pollers did

The poller asks squeue about every registered job at MLC_POLL_MIN seconds
(2), backing off by half again up to MLC_POLL_MAX (30) while no state
changes, back to MLC_POLL_MIN when one does or a job is registered. It keeps
one shell open on the cluster (`ssh LOGIN`, or `sh` here without a login
host) and writes the id list to it, a line per query; a lost connection is
reopened at the next query, and the states are kept meanwhile, so the steps
keep waiting. A registration whose step has died is dropped; with none left
for MLC_POLL_LINGER seconds (30) the poller exits.
"""

from __future__ import annotations

import fcntl
import os
import re
import selectors
import shlex
import subprocess
import sys
import time
from pathlib import Path

ENDED = "ENDED"
_JOB_ID = re.compile(r"[0-9]+")
_LISTED = re.compile(r"([0-9]+)\S*\s+([A-Z_]+)")  # `12 RUNNING`, `13_4 PENDING`, `13_[5-7%2] PENDING`
_LOCK_FD = "MLC_POLLER_LOCK_FD"  # the lock `ensure` hands to the poller it starts
_ANSWER_TIMEOUT = 120.0  # seconds an answer may take before the link counts as lost

# The shell at the other end: a line of comma-separated ids in, squeue's
# answer out between markers (a login banner before them is skipped).
_LOOP = """while IFS= read -r ids; do
  echo @begin
  out=$(squeue -h -j "$ids" -o "%i %T" 2>&1); rc=$?
  printf '%s\\n' "$out"
  echo "@end $rc"
done"""


def _setting(name: str, default: float) -> float:
    try:
        return max(0.1, float(os.environ.get(name, default)))
    except ValueError:
        return default


class LinkLost(Exception):
    """The cluster could not be asked (the connection dropped, ssh failed)."""


class Link:
    """One shell on the cluster, kept open across queries."""

    def __init__(self, login: str):
        self.login = login
        self.process: subprocess.Popen | None = None
        self.buffer = b""

    def _open(self) -> subprocess.Popen:
        if self.login:
            argv = ["ssh", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4",
                    "--", self.login, "sh -c " + shlex.quote(_LOOP)]
        else:
            argv = ["sh", "-c", _LOOP]
        self.buffer = b""
        return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # ssh says why it failed in the log

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def query(self, ids: list[str]) -> tuple[int, list[str]]:
        """squeue's exit status and output lines for these ids."""
        if self.process is None or self.process.poll() is not None:
            try:
                self.process = self._open()
            except OSError as error:
                raise LinkLost(f"cannot start {'ssh' if self.login else 'sh'}: {error}") from None
        try:
            self.process.stdin.write((",".join(ids) + "\n").encode())
            self.process.stdin.flush()
        except OSError as error:
            self.close()
            raise LinkLost(f"cannot write to the cluster's shell: {error}") from None
        lines: list[str] = []
        begun = False
        deadline = time.monotonic() + _ANSWER_TIMEOUT
        while True:
            line = self._line(deadline)
            if line == "@begin":
                begun, lines = True, []
            elif begun and line.startswith("@end "):
                return int(line[5:] or 1), lines
            elif begun:
                lines.append(line)

    def _line(self, deadline: float) -> str:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.close()
                    raise LinkLost(f"no answer from the cluster in {_ANSWER_TIMEOUT:.0f} s")
                chunk = os.read(fd, 65536)
                if not chunk:
                    status = self.process.wait()
                    self.process = None
                    raise LinkLost(f"the connection ended (exit status {status})")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode(errors="replace").strip()


def states_of(ids: list[str], status: int, lines: list[str]) -> dict[str, str] | None:
    """Each id's state from squeue's answer; None when squeue failed for a
    reason other than not knowing the job (ask again later). An id it does
    not list has left the queue: ENDED. An array is RUNNING while any task
    runs, else in the state of its first line."""
    if status != 0:
        if any("Invalid job id" in line for line in lines):
            return dict.fromkeys(ids, ENDED)  # one id, forgotten by slurmctld: it ended
        return None
    listed: dict[str, str] = {}
    for line in lines:
        match = _LISTED.match(line)
        if match is None:
            continue
        job, state = match.groups()
        if listed.get(job) != "RUNNING":
            listed[job] = "RUNNING" if state == "RUNNING" else listed.get(job, state)
    return {job: listed.get(job, ENDED) for job in ids}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(path: Path, text: str) -> None:
    """Replaced whole, so that a step never reads half a state."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


class Poller:
    def __init__(self, folder: Path, login: str):
        self.folder = folder
        self.jobs = folder / "jobs"
        self.states = folder / "state"
        self.link_file = folder / "link"
        self.link = Link(login)
        self.known: dict[str, str] = {}  # id -> the state last written
        self.asked: set[str] = set()  # ids some query has included
        self.shortest = _setting("MLC_POLL_MIN", 2.0)
        self.longest = max(self.shortest, _setting("MLC_POLL_MAX", 30.0))
        self.linger = _setting("MLC_POLL_LINGER", 30.0)

    def registered(self) -> list[str]:
        """The ids some living step waits for; the others' files are removed."""
        ids = []
        for path in self.jobs.iterdir() if self.jobs.is_dir() else ():
            if not _JOB_ID.fullmatch(path.name):
                continue
            try:
                pid = int(path.read_text(encoding="utf-8").split()[0])
            except (OSError, ValueError, IndexError):
                ids.append(path.name)  # being written: count it
                continue
            if _alive(pid):
                ids.append(path.name)
            else:
                _remove(path)
        return sorted(ids, key=int)

    def forget(self, ids: list[str]) -> None:
        """Drops the states of jobs nobody waits for any more."""
        for job in self.asked - set(ids):
            self.asked.discard(job)
            self.known.pop(job, None)
            _remove(self.states / job)

    def run(self) -> None:
        self.states.mkdir(parents=True, exist_ok=True)
        interval = self.shortest
        next_query = 0.0
        idle_since = time.monotonic()
        try:
            while True:
                now = time.monotonic()
                ids = self.registered()
                self.forget(ids)
                if not ids:
                    if now - idle_since >= self.linger:
                        log(f"no job to watch for {self.linger:.0f} s: exiting")
                        return
                    time.sleep(0.5)
                    continue
                idle_since = now
                if any(job not in self.asked for job in ids):
                    interval, next_query = self.shortest, now  # a new job: its first state at once
                if now < next_query:
                    time.sleep(min(0.5, next_query - now))
                    continue
                changed = self.poll(ids)
                self.asked.update(ids)
                if changed is None:  # the link is down: try again, less and less often
                    interval = min(2 * interval, self.longest)
                else:
                    interval = self.shortest if changed else min(1.5 * interval, self.longest)
                next_query = time.monotonic() + interval
        finally:
            self.link.close()

    def poll(self, ids: list[str]) -> bool | None:
        """Asks about `ids` and writes what changed: whether anything did,
        None when the cluster could not be asked."""
        try:
            status, lines = self.link.query(ids)
        except LinkLost as error:
            if not self.link_file.exists():
                log(f"cannot ask the cluster: {error}; the steps keep waiting, reconnecting")
            _write(self.link_file, f"{error}\n")
            return None
        if self.link_file.exists():
            log("the cluster answers again")
            _remove(self.link_file)
        states = states_of(ids, status, lines)
        if states is None:
            log(f"squeue failed (exit status {status}): {' '.join(lines)[:300]}; asking again")
            return False
        changed = False
        for job, state in states.items():
            if self.known.get(job) != state:
                _write(self.states / job, state + "\n")
                self.known[job] = state
                changed = True
        return changed


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} [{os.getpid()}] {message}", flush=True)


def _locked(folder: Path):
    """The lock file, held; None when another poller holds it."""
    handle = open(folder / "lock", "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def ensure(folder: Path, login: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    held = _locked(folder)
    if held is None:
        return 0  # one runs
    # The poller inherits the lock itself (flock belongs to the open file),
    # so no other step can start a second one in between.
    with held, open(folder / "log", "ab") as output:
        # Not a session of its own: stopping the workflow's process group
        # (Ctrl-C, mlc down) stops the poller with the steps.
        subprocess.Popen([sys.executable, os.path.abspath(__file__), "serve", str(folder), login],
                         stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                         pass_fds=(held.fileno(),), env={**os.environ, _LOCK_FD: str(held.fileno())})
    return 0


def serve(folder: Path, login: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    inherited = os.environ.pop(_LOCK_FD, None)
    held = os.fdopen(int(inherited)) if inherited else _locked(folder)
    if held is None:
        return 0  # another poller runs
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    log(f"poller started for {login or 'this machine'}")
    Poller(folder, login).run()
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("ensure", "serve"):
        print("usage: poller.py ensure|serve DIR LOGIN", file=sys.stderr)
        return 2
    command, folder, login = argv
    return (ensure if command == "ensure" else serve)(Path(folder), login)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
