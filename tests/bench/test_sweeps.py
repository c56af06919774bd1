"""Emitting a sweep does work linear in its members on every kind of site
(issue 11 item 6: on Kubernetes it was quadratic). Measured in Python
function calls or lines run, which are the same on every run and every
machine, never in seconds: four times the members must cost about four
times the work."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from suite import sweeps

from compiler.backends import emit
from compiler.frontend import load
from compiler.placement import pictures, place

SMALL, LARGE = 80, 320  # LARGE = 4 x SMALL
# Linear work has a ratio just under 4 (fixed costs do not grow); the
# quadratic Kubernetes emission had 11 (and 4.6 from 20 to 80 members:
# too few for the square to show).
MAX_RATIO = 5.0


def _placed(tmp_path, kind: str, members: int, fan_in: str | None = None):
    path = tmp_path / f"{kind}-{members}-{fan_in}.mlx"
    path.write_text(sweeps.source(kind, members, fan_in), encoding="utf-8")
    experiment, diags, _ = load(str(path))
    assert experiment is not None, diags.sorted()
    return experiment, place(experiment)


def _emission_calls(tmp_path, kind: str, members: int, fan_in: str | None = None) -> int:
    """Calls made by the first emission of a freshly loaded experiment (the
    back ends' imports already done on another one)."""
    emit(*_placed(tmp_path, kind, 2, fan_in))
    experiment, plan = _placed(tmp_path, kind, members, fan_in)
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        emit(experiment, plan)
    finally:
        sys.setprofile(None)
    return calls


KINDS = sorted(sweeps.KINDS)
# The fan-in on the same site, and on the next kind's site: then every
# member's output is transferred (Kubernetes through its data mover).
PLACEMENTS = [(kind, fan_in) for i, kind in enumerate(KINDS) for fan_in in (kind, KINDS[(i + 1) % len(KINDS)])]


@pytest.mark.parametrize(("kind", "fan_in"), PLACEMENTS)
def test_emitting_a_sweep_grows_linearly_with_its_members(tmp_path, kind, fan_in):
    small = _emission_calls(tmp_path, kind, SMALL, fan_in)
    large = _emission_calls(tmp_path, kind, LARGE, fan_in)
    assert large / small < MAX_RATIO, f"{kind} -> {fan_in}: {small} calls for {SMALL} members, {large} for {LARGE}"


def _first_fit(intervals: list[tuple[float, float, int]]) -> dict[int, int]:
    """The Gantt chart's rows as first defined: every row scanned per bar."""
    row_free: list[float] = []
    row_of = {}
    for begin, end, key in sorted(intervals):
        row = next((r for r, free in enumerate(row_free) if free <= begin + 1e-9), len(row_free))
        if row == len(row_free):
            row_free.append(0.0)
        row_free[row] = end
        row_of[key] = row
    return row_of


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 8)), max_size=40))
def test_gantt_rows_are_the_lowest_free_row_at_each_start(spans):
    intervals = [(float(start), float(start + length), key) for key, (start, length) in enumerate(spans)]
    assert pictures._lanes(intervals) == _first_fit(intervals)


def _lines_run(function, *args) -> int:
    """Lines of `function`'s own body executed: the same on every run."""
    lines = 0

    def trace(frame, event, arg):
        nonlocal lines
        if frame.f_code is not function.__code__:
            return None
        if event == "line":
            lines += 1
        return trace

    sys.settrace(trace)
    try:
        function(*args)
    finally:
        sys.settrace(None)
    return lines


def test_gantt_rows_of_a_wide_sweep_take_linear_work():
    """A pool as wide as the sweep runs every member at once, one row each:
    scanning every row for every bar made that quadratic (ratio 16 here)."""
    def overlapping(members: int) -> list[tuple[float, float, int]]:
        return [(0.0, 60.0, key) for key in range(members)]

    small = _lines_run(pictures._lanes, overlapping(SMALL))
    large = _lines_run(pictures._lanes, overlapping(LARGE))
    assert large / small < MAX_RATIO, f"{small} lines for {SMALL} bars, {large} for {LARGE}"
