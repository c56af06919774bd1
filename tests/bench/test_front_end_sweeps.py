"""Checking a sweep does work linear in its members, fan-in included
(issue 19: binding a fan-in's inputs scanned the producer's members once per
edge). Measured in lines of the front end run, the same on every run and every
machine, never in seconds: four times the members must cost about four
times the work."""

from __future__ import annotations

import sys
from pathlib import Path

import fan_in
import pytest

from compiler import frontend
from compiler.frontend import load

FRONT_END = str(Path(frontend.__file__).parent)

SMALL, LARGE = 250, 1000  # LARGE = 4 x SMALL
# Linear work has a ratio just under 4; the per-edge scan gave 6.1.
MAX_RATIO = 5.0


def _lines_run(tmp_path, shape: str, members: int) -> int:
    path = tmp_path / f"{shape}-{members}.mlx"
    path.write_text(fan_in.SHAPES[shape](members), encoding="utf-8")
    lines = 0

    def count(frame, event, arg):
        nonlocal lines
        if event == "line":
            lines += 1
        return count

    def enter(frame, event, arg):
        # Only the front end's own lines: a scan hides inside one call.
        return count if frame.f_code.co_filename.startswith(FRONT_END) else None

    sys.settrace(enter)
    try:
        experiment, diags, _ = load(str(path))
    finally:
        sys.settrace(None)
    assert experiment is not None, diags.sorted()
    return lines


@pytest.mark.parametrize("shape", ["gather"])
def test_checking_a_sweep_grows_linearly_with_its_members(tmp_path, shape):
    _lines_run(tmp_path, shape, 2)  # imports and the parser's tables, once
    small = _lines_run(tmp_path, shape, SMALL)
    large = _lines_run(tmp_path, shape, LARGE)
    assert large / small < MAX_RATIO, f"{shape}: {small} lines for {SMALL} members, {large} for {LARGE}"


def _partial(members: int) -> str:
    """A 2-D training grid and one stage per learning rate reading the
    members of its rate: per-member fan-ins."""
    rates = members // 4
    return (f'stage train for lr in range({rates}), bs in [16, 32, 64, 128] {{\n'
            '  out model = file("train/${lr}/${bs}")\n  run = "true > ${out.model}"\n}\n'
            f'stage best for lr in range({rates}) {{\n'
            '  in models = train[lr = lr].model\n  out pick = file("best/${lr}")\n'
            '  run = "cat ${in.models} > ${out.pick}"\n}\n')


fan_in.SHAPES.setdefault("partial", _partial)


@pytest.mark.parametrize("shape", ["paired", "partial"])
def test_per_member_references_grow_linearly(tmp_path, shape):
    _lines_run(tmp_path, shape, 2 if shape == "paired" else 8)
    small = _lines_run(tmp_path, shape, SMALL)
    large = _lines_run(tmp_path, shape, LARGE)
    assert large / small < MAX_RATIO, f"{shape}: {small} lines for {SMALL} members, {large} for {LARGE}"
