"""Running one command in a fresh process and measuring it: wall time, and
peak memory (max RSS) of that process tree as the kernel reports it. GNU
time reports it when installed; otherwise wait4's ru_maxrss, which cannot
go below the RSS of this (forking) Python process, about 15 MB. A run that
outlives its timeout is killed and recorded as such, with the CPU time its
processes had used by then (read from /proc just before the kill): a lower
bound of what it would have used."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = Path("/usr/bin/time")


@dataclass(frozen=True)
class Run:
    status: str  # "ok", "failed" (non-zero exit) or "timeout"
    seconds: float  # wall time
    cpu_seconds: float  # user + system time: less sensitive to other load on the machine
    peak_mib: float  # max RSS
    returncode: int | None = None
    log: Path | None = None  # stdout and stderr of the run


def run(argv: list[str], *, cwd: Path, timeout: float, log: Path,
        env: dict[str, str] | None = None) -> Run:
    log.parent.mkdir(parents=True, exist_ok=True)
    rss_file = log.with_suffix(".maxrss")
    rss_file.unlink(missing_ok=True)
    if GNU_TIME.exists():
        argv = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *argv]
    if not cwd.is_dir():  # e.g. the output of an `mlc compile` that failed
        log.write_text(f"not run: {cwd} does not exist\n")
        return Run("failed", 0.0, 0.0, 0.0, None, log)
    with log.open("wb") as sink:
        started = time.perf_counter()
        # A session of its own, so that a timeout kills the tool's children too.
        process = subprocess.Popen(argv, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        expired = threading.Event()
        used_before_kill: list[float] = []

        def kill() -> None:
            try:
                used_before_kill.append(session_cpu_seconds(process.pid))
            except (OSError, ValueError, IndexError):  # never keep the kill from happening
                pass
            expired.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:  # it finished just now
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, wait_status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped: keep Popen from waiting
    peak_kib = usage.ru_maxrss  # Linux reports KiB
    reported = rss_file.read_text().split() if rss_file.exists() else []
    if reported and reported[-1].isdigit():  # after "Command exited with non-zero status N"
        peak_kib = int(reported[-1])
    peak_mib = peak_kib / 1024
    cpu_seconds = usage.ru_utime + usage.ru_stime  # GNU time's too: it waits for its child
    if expired.is_set():
        # GNU time dies with its child unreaped, so wait4's usage misses the
        # child: /proc's count taken just before the kill is the better bound.
        cpu_seconds = max([cpu_seconds, *used_before_kill])
        return Run("timeout", seconds, cpu_seconds, peak_mib, None, log)
    status = "ok" if process.returncode == 0 else "failed"
    return Run(status, seconds, cpu_seconds, peak_mib, process.returncode, log)


def session_cpu_seconds(session: int) -> float:
    """User plus system CPU seconds used so far by the processes of a session
    (Linux /proc): each live process's own time and that of its children it
    has already reaped. 0.0 where there is no /proc."""
    if not os.path.isdir("/proc"):
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        # the fields after the command name, which is in parentheses and may hold spaces
        fields = stat[stat.rindex(")") + 2:].split()
        # fields[3] is the session id; 11-14 utime, stime, cutime, cstime (proc(5), from field 3)
        if int(fields[3]) == session:
            total += sum(int(f) for f in fields[11:15])
    return total / ticks
