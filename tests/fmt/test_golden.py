"""Ugly inputs and their canonical form (tests/fmt/golden/NAME.mlx and
NAME.formatted.mlx). MLC_UPDATE_GOLDEN=1 rewrites the expected files."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.editors.printer import format_text
from tests.conftest import update_golden

GOLDEN = Path(__file__).resolve().parent / "golden"
INPUTS = sorted(p for p in GOLDEN.glob("*.mlx") if not p.name.endswith(".formatted.mlx"))


@pytest.mark.parametrize("source", INPUTS, ids=lambda p: p.stem)
def test_golden(source):
    expected_path = source.with_name(source.stem + ".formatted.mlx")
    formatted = format_text(source.read_text(encoding="utf-8"))
    if update_golden():
        expected_path.write_text(formatted, encoding="utf-8")
    assert formatted == expected_path.read_text(encoding="utf-8")
    assert format_text(formatted) == formatted


def test_there_are_golden_files():
    assert len(INPUTS) >= 2
