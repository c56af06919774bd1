"""Which `mlc run` owns an output folder, so that a run that was killed
(mlc and Snakemake both, with SIGKILL) does not block the next one with
Snakemake's LockException, and a live run is never unlocked from under it.

A run records itself in .mlc/run.owner: its own pid and Snakemake's, each
with the process's start time (a pid alone may have been reused by another
process since). The record is removed when the run ends. A record whose two
processes are both gone is stale: its run was killed, so the Snakemake lock
it left (.snakemake/locks/) is that run's, and `snakemake --unlock` clears it.
A lock without a record was taken by someone else (Snakemake run by hand):
it is left alone."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

RECORD = Path(".mlc") / "run.owner"


@dataclass(frozen=True)
class Process:
    pid: int
    started: str  # /proc/<pid>/stat's start time, in clock ticks since boot

    @classmethod
    def of(cls, pid: int) -> Process | None:
        started = _start_time(pid)
        return cls(pid, started) if started is not None else None

    def alive(self) -> bool:
        return _start_time(self.pid) == self.started


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from
    # the last `)`. Field 22 is the start time; field 3 the state (Z: dead).
    fields = stat[stat.rfind(")") + 2:].split()
    if len(fields) < 20 or fields[0] == "Z":
        return None
    return fields[19]


@dataclass(frozen=True)
class Owner:
    mlc: Process | None
    snakemake: Process | None

    def live(self) -> Process | None:
        """The recorded process that still runs, if any (Snakemake first:
        it holds the lock)."""
        for process in (self.snakemake, self.mlc):
            if process is not None and process.alive():
                return process
        return None


def read(outdir: Path) -> Owner | None:
    try:
        data = json.loads((outdir / RECORD).read_text(encoding="utf-8"))
        return Owner(*(Process(int(data[k]["pid"]), str(data[k]["started"])) if data.get(k) else None
                       for k in ("mlc", "snakemake")))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def claim(outdir: Path, snakemake_pid: int | None = None) -> None:
    """Records this process (and, once started, its Snakemake) as the
    folder's run. The first claim creates the record exclusively: of two
    runs started at once, the second is refused."""
    processes = {"mlc": Process.of(os.getpid()),
                 "snakemake": Process.of(snakemake_pid) if snakemake_pid else None}
    text = json.dumps({k: vars(p) if p else None for k, p in processes.items()}) + "\n"
    path = outdir / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    if snakemake_pid is None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise FolderBusy(f"{outdir} is in use by another run that started just now") from None
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def release(outdir: Path) -> None:
    (outdir / RECORD).unlink(missing_ok=True)


def locked(outdir: Path) -> bool:
    locks = outdir / ".snakemake" / "locks"
    return locks.is_dir() and any(locks.iterdir())


class FolderBusy(Exception):
    """Another run is live in the folder (exit 1, with this message)."""


def take_over(outdir: Path, unlock_command: list[str]) -> str | None:
    """Before a run: refuse when another recorded run is alive; clear the
    lock a dead recorded run left. Returns what was done, for the user."""
    owner = read(outdir)
    if owner is None:
        return None
    live = owner.live()
    if live is not None:
        which = "Snakemake" if live == owner.snakemake else "mlc run"
        raise FolderBusy(f"{outdir} is in use by another run ({which}, pid {live.pid}); "
                         "wait for it to end, or stop it (Ctrl-C, or kill that pid)")
    cleared = None
    if locked(outdir):
        result = subprocess.run([*unlock_command, "--unlock"], cwd=outdir, capture_output=True, text=True)
        if result.returncode != 0:
            raise FolderBusy(f"cannot clear the lock of the earlier run that was killed: "
                             f"{(result.stdout + result.stderr).strip()}")
        cleared = "cleared the lock left by an earlier run that was killed"
    release(outdir)
    return cleared
