"""compiler.sites.slurm.accounting reads real sacct output.

tests/sites/fixtures/sacct-two-nodes.txt is `sacct -j ... --parsable2
--format=<SACCT_FORMAT>` as the two-node test cluster printed it (2026-12-02)
for: 475, a 2-node job with one srun step; 476, an array of 3 whose task 1
exits 3; 479, a job killed by SIGKILL; 480, a job scancelled while running;
481, an array still pending; 482, a job still running.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.sites.slurm.accounting import (
    SACCT_FORMAT,
    AccountingError,
    expand_hostlist,
    jobs,
    parse_duration,
    parse_memory,
    parse_sacct,
)

CAPTURED = (Path(__file__).parent / "fixtures" / "sacct-two-nodes.txt").read_text()


def by_id(records):
    return {(r.job_id, r.step): r for r in records}


def test_the_capture_was_asked_for_with_the_modules_format():
    assert CAPTURED.splitlines()[0] == SACCT_FORMAT.replace(",", "|")


def test_a_finished_two_node_job_and_its_steps():
    records = by_id(parse_sacct(CAPTURED))
    job, batch, step = records["475", None], records["475", "batch"], records["475", "0"]
    assert (job.state, job.exit_code, job.signal) == ("COMPLETED", 0, 0)
    assert job.nodes == ("mlc-n1", "mlc-n2")
    assert (job.elapsed_s, job.cpu_time_s) == (5, 1.776)
    assert job.max_rss_bytes is None  # sacct leaves memory to the steps
    assert (job.submit, job.start, job.end) == (
        datetime(2026, 12, 2, 5, 3, 52), datetime(2026, 12, 2, 5, 3, 52), datetime(2026, 12, 2, 5, 3, 57))
    assert (batch.nodes, batch.max_rss_bytes) == (("mlc-n1",), 168744 * 1024)
    assert (step.nodes, step.max_rss_bytes, step.elapsed_s, step.cpu_time_s) == (
        ("mlc-n1", "mlc-n2"), 79108 * 1024, 3, 1.569)
    assert job.array_job is job.array_task is None


def test_array_tasks_are_their_own_jobs():
    usage = {u.job.job_id: u for u in jobs(parse_sacct(CAPTURED))}
    tasks = [usage[f"476_{index}"] for index in range(3)]
    assert [(t.job.array_job, t.job.array_task, t.job.state, t.job.exit_code) for t in tasks] == [
        ("476", 0, "COMPLETED", 0), ("476", 1, "FAILED", 3), ("476", 2, "COMPLETED", 0)]
    assert [t.job.nodes for t in tasks] == [("mlc-n1",), ("mlc-n1",), ("mlc-n2",)]
    assert [[s.step for s in t.steps] for t in tasks] == [["batch"]] * 3
    assert tasks[1].steps[0].job_id == "476_1"
    assert tasks[1].max_rss_bytes == 3064 * 1024


def test_signals_cancellation_and_unfinished_jobs():
    records = by_id(parse_sacct(CAPTURED))
    killed = records["479", None]
    assert (killed.state, killed.exit_code, killed.signal) == ("FAILED", 0, 9)
    cancelled = records["480", None]
    assert (cancelled.state, records["480", "batch"].signal) == ("CANCELLED", 15)  # "CANCELLED by 0"
    running = records["482", None]
    assert (running.state, running.end, running.max_rss_bytes) == ("RUNNING", None, None)
    pending = records["481_[0-3]", None]
    assert (pending.state, pending.array_job, pending.array_task) == ("PENDING", "481", None)
    assert (pending.nodes, pending.start, pending.end, pending.elapsed_s) == ((), None, None, 0)


def test_jobs_keep_sacct_order_and_group_every_step():
    usage = jobs(parse_sacct(CAPTURED))
    assert [u.job.job_id for u in usage] == ["475", "476_0", "476_1", "476_2", "479", "480", "482", "481_[0-3]"]
    assert sum(len(u.steps) for u in usage) + len(usage) == len(CAPTURED.splitlines()) - 1
    assert usage[0].max_rss_bytes == 168744 * 1024


def test_columns_may_come_in_any_order_and_extra_ones_are_ignored():
    header, *lines = CAPTURED.splitlines()
    columns = header.split("|")
    order = list(reversed(range(len(columns))))
    shuffled = "\n".join("|".join(line.split("|")[i] for i in order) + "|x" for line in [header, *lines])
    assert parse_sacct(shuffled) == parse_sacct(CAPTURED)


@pytest.mark.parametrize("text, problem", [
    ("JobID|State\n1|COMPLETED\n", "lacks the columns ExitCode"),
    (CAPTURED.splitlines()[0] + "\n1|COMPLETED|0:0\n", "line 2 has 3 fields"),
    (CAPTURED.replace("00:00:05|00:01.776", "5s|00:01.776", 1), "not a duration: '5s'"),
    (CAPTURED.replace("168744K", "lots", 1), "not an amount of memory"),
    (CAPTURED.replace("|0:9|", "|9|", 1), "not an exit code"),
    (CAPTURED.replace("475.batch", "batch", 1), "not a job id"),
])
def test_output_that_is_not_saccts_is_refused_with_the_line(text, problem):
    with pytest.raises(AccountingError, match=problem):
        parse_sacct(text)


def test_empty_output_has_no_records():
    assert parse_sacct("") == ()
    assert parse_sacct(CAPTURED.splitlines()[0] + "\n") == ()


@pytest.mark.parametrize("text, seconds", [
    ("00:00.382", 0.382), ("59:59", 3599), ("01:02:03", 3723), ("1-02:03:04", 93784),
    ("00:00:00", 0), ("", 0), ("INVALID", 0),
])
def test_durations_in_every_form_sacct_prints(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text, size", [
    ("0", 0), ("512", 512), ("219656K", 219656 * 1024), ("1.50M", 1572864), ("2G", 2 * 1024**3), ("", None),
])
def test_memory_in_every_unit(text, size):
    assert parse_memory(text) == size


@pytest.mark.parametrize("text, hosts", [
    ("mlc-n[1-2]", ("mlc-n1", "mlc-n2")),
    ("gpu[07,09-10],login", ("gpu07", "gpu09", "gpu10", "login")),
    ("mlc-n1", ("mlc-n1",)),
    ("None assigned", ()),
])
def test_host_lists_are_expanded(text, hosts):
    assert expand_hostlist(text) == hosts


@given(st.lists(st.integers(0, 999), min_size=1, max_size=20, unique=True), st.sampled_from(["n", "gpu-"]))
def test_a_compressed_host_list_expands_to_its_hosts(numbers, prefix):
    numbers = sorted(numbers)
    ranges, start = [], numbers[0]
    for previous, current in zip(numbers, [*numbers[1:], None]):
        if current != previous + 1:
            ranges.append(f"{start:03d}" if start == previous else f"{start:03d}-{previous:03d}")
            start = current
    assert expand_hostlist(f"{prefix}[{','.join(ranges)}]") == tuple(f"{prefix}{n:03d}" for n in numbers)
