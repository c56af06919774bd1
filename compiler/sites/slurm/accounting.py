"""Slurm's accounting records, read from `sacct --parsable2` output.

A pure parser: no subprocess, no clock. Ask sacct for (at least) the columns
of `SACCT_FORMAT`, in any order; the header line names them. Each line
becomes a `Record` (a job, an array task, or one of their steps), and
`jobs()` groups the steps under their job or array task.

Nothing calls this yet: it is the base the run records of issue 17 build on
(what each step really used, read after a run). The tests read real output
captured from the test cluster (tests/sites/fixtures/).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# The columns `parse_sacct` reads: pass as `sacct --parsable2 --format=...`.
SACCT_FORMAT = "JobID,State,ExitCode,Elapsed,TotalCPU,MaxRSS,NodeList,Submit,Start,End"
_COLUMNS = tuple(SACCT_FORMAT.split(","))

# sacct's memory suffixes are binary (sacct(1): "K" is 1024 bytes).
_MEMORY_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_MEMORY = re.compile(r"(\d+(?:\.\d+)?)([KMGTP]?)")
# [D-][HH:]MM:SS[.fff]: Elapsed always has hours; TotalCPU drops them under an hour.
_DURATION = re.compile(r"(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)")
# 123, 123_4, 123_[4-7%2], each with an optional step: .batch, .extern, .0
_JOB_ID = re.compile(r"(?P<job>\d+(?:\+\d+)?)(?:_(?P<task>\d+|\[[^\]]*\]))?(?:\.(?P<step>.+))?")
# mlc-n[1-2,5], gpu07: a prefix, then an optional bracketed list of numbers and ranges.
_HOST_GROUP = re.compile(r"([^,\[]+)(?:\[([^\]]*)\])?")


class AccountingError(ValueError):
    """Output that is not what `sacct --parsable2 --format=SACCT_FORMAT` prints."""


@dataclass(frozen=True)
class Record:
    """One line of sacct: a job, an array task, or a step of either.

    Times are as sacct prints them: in the local time of the machine that ran
    sacct, without a zone. `None` where Slurm has no value yet (the end of a
    running job, the start of a pending one, the memory of a job line, which
    sacct leaves to its steps).
    """

    job_id: str  # as sacct shows it: "475", "476_1", "481_[0-3]" (tasks still pending)
    step: str | None  # "batch", "extern", "0", ...; None for the job or array task itself
    array_job: str | None  # "476" for every task of array 476
    array_task: int | None  # the task's index; None for a plain job or a pending range
    state: str  # COMPLETED, FAILED, CANCELLED, RUNNING, ... ("CANCELLED by 0" -> CANCELLED)
    exit_code: int  # the exit status of the script or command
    signal: int  # the signal that ended it, 0 if none
    elapsed_s: int
    cpu_time_s: float  # user + system time of all its processes
    max_rss_bytes: int | None
    nodes: tuple[str, ...]  # expanded: ("mlc-n1", "mlc-n2"); () before it has nodes
    submit: datetime | None
    start: datetime | None
    end: datetime | None

    @property
    def is_step(self) -> bool:
        return self.step is not None


@dataclass(frozen=True)
class JobUsage:
    """A job (or one array task) with its steps."""

    job: Record
    steps: tuple[Record, ...]

    @property
    def max_rss_bytes(self) -> int | None:
        """The largest resident set of any of its steps (the job line has none)."""
        values = [r.max_rss_bytes for r in (self.job, *self.steps) if r.max_rss_bytes is not None]
        return max(values) if values else None


def parse_sacct(text: str) -> tuple[Record, ...]:
    """Every line of `sacct --parsable2` output (with its header line), in order."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ()
    header = lines[0].split("|")
    missing = [column for column in _COLUMNS if column not in header]
    if missing:
        raise AccountingError(f"sacct output lacks the columns {', '.join(missing)} (header: {lines[0]!r})")
    index = {column: header.index(column) for column in _COLUMNS}
    records = []
    for number, line in enumerate(lines[1:], start=2):
        values = line.split("|")
        if len(values) != len(header):
            raise AccountingError(f"line {number} has {len(values)} fields, the header {len(header)}: {line!r}")
        try:
            records.append(_record({column: values[i] for column, i in index.items()}))
        except ValueError as error:
            raise AccountingError(f"line {number}: {error}: {line!r}") from None
    return tuple(records)


def jobs(records: Iterable[Record]) -> tuple[JobUsage, ...]:
    """Steps grouped under their job or array task, in the order the jobs appear.
    A step whose job line is missing (sacct asked for a step only) is left out."""
    order: list[str] = []
    heads: dict[str, Record] = {}
    steps: dict[str, list[Record]] = {}
    for record in records:
        if record.is_step:
            steps.setdefault(record.job_id, []).append(record)
        elif record.job_id not in heads:
            heads[record.job_id] = record
            order.append(record.job_id)
    return tuple(JobUsage(heads[job_id], tuple(steps.get(job_id, ()))) for job_id in order)


def _record(fields: dict[str, str]) -> Record:
    match = _JOB_ID.fullmatch(fields["JobID"])
    if match is None:
        raise ValueError(f"not a job id: {fields['JobID']!r}")
    task = match["task"]
    exit_code, signal = _exit_code(fields["ExitCode"])
    return Record(
        job_id=fields["JobID"].split(".", 1)[0],
        step=match["step"],
        array_job=match["job"] if task is not None else None,
        array_task=int(task) if task is not None and task.isdigit() else None,
        state=fields["State"].split(" ", 1)[0],
        exit_code=exit_code,
        signal=signal,
        elapsed_s=round(parse_duration(fields["Elapsed"])),
        cpu_time_s=parse_duration(fields["TotalCPU"]),
        max_rss_bytes=parse_memory(fields["MaxRSS"]),
        nodes=expand_hostlist(fields["NodeList"]),
        submit=_timestamp(fields["Submit"]),
        start=_timestamp(fields["Start"]),
        end=_timestamp(fields["End"]),
    )


def parse_duration(text: str) -> float:
    """Seconds in `[D-][HH:]MM:SS[.fff]` (Elapsed, TotalCPU); "" and INVALID are 0."""
    if text in ("", "INVALID"):
        return 0.0
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    days, hours, minutes, seconds = match.groups()
    return ((int(days or 0) * 24 + int(hours or 0)) * 60 + int(minutes)) * 60 + float(seconds)


def parse_memory(text: str) -> int | None:
    """Bytes in sacct's `219656K`, `1.50M`, `0`; None when empty (no sample)."""
    if text == "":
        return None
    match = _MEMORY.fullmatch(text)
    if match is None:
        raise ValueError(f"not an amount of memory: {text!r}")
    number, unit = match.groups()
    return round(float(number) * _MEMORY_UNITS[unit])


def expand_hostlist(text: str) -> tuple[str, ...]:
    """`mlc-n[1-2],gpu[07,09]` -> its host names, zero padding kept;
    `None assigned` (a pending job) and "" -> ()."""
    if text in ("", "None assigned"):
        return ()
    hosts: list[str] = []
    position = 0
    while position < len(text):
        match = _HOST_GROUP.match(text, position)
        if match is None:
            raise ValueError(f"not a host list: {text!r}")
        prefix, ranges = match.groups()
        if ranges is None:
            hosts.append(prefix)
        else:
            for part in ranges.split(","):
                first, _, last = part.partition("-")
                if not first.isdigit() or not (last or first).isdigit():
                    raise ValueError(f"not a host list: {text!r}")
                for number in range(int(first), int(last or first) + 1):
                    hosts.append(f"{prefix}{number:0{len(first)}d}")
        position = match.end()
        if position < len(text):
            if text[position] != ",":
                raise ValueError(f"not a host list: {text!r}")
            position += 1
    return tuple(hosts)


def _exit_code(text: str) -> tuple[int, int]:
    code, _, signal = text.partition(":")
    if not code.isdigit() or not signal.isdigit():
        raise ValueError(f"not an exit code: {text!r}")
    return int(code), int(signal)


def _timestamp(text: str) -> datetime | None:
    if text in ("", "Unknown", "None"):
        return None
    return datetime.fromisoformat(text)
