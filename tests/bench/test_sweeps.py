"""Emitting a sweep does work linear in its members on every kind of site
(issue 11 item 6: on Kubernetes it was quadratic). Measured in Python
function calls, which are the same on every run and every machine, never in
seconds: four times the members must cost about four times the calls."""

from __future__ import annotations

import sys

import pytest
from suite import sweeps

from compiler.backends import emit
from compiler.frontend import load
from compiler.placement import place

SMALL, LARGE = 80, 320  # LARGE = 4 x SMALL
# Linear work has a ratio just under 4 (fixed costs do not grow); the
# quadratic Kubernetes emission had 11 (and 4.6 from 20 to 80 members:
# too few for the square to show).
MAX_RATIO = 5.0


def _placed(tmp_path, kind: str, members: int):
    path = tmp_path / f"{kind}-{members}.mlx"
    path.write_text(sweeps.source(kind, members), encoding="utf-8")
    experiment, diags, _ = load(str(path))
    assert experiment is not None, diags.sorted()
    return experiment, place(experiment)


def _emission_calls(tmp_path, kind: str, members: int) -> int:
    """Calls made by the first emission of a freshly loaded experiment (the
    back ends' imports already done on another one)."""
    emit(*_placed(tmp_path, kind, 2))
    experiment, plan = _placed(tmp_path, kind, members)
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


@pytest.mark.parametrize("kind", sorted(sweeps.KINDS))
def test_emitting_a_sweep_grows_linearly_with_its_members(tmp_path, kind):
    small = _emission_calls(tmp_path, kind, SMALL)
    large = _emission_calls(tmp_path, kind, LARGE)
    assert large / small < MAX_RATIO, f"{kind}: {small} calls for {SMALL} members, {large} for {LARGE}"
