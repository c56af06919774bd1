"""Formatting is idempotent, keeps the AST, and keeps every comment: over
the examples and over random programs in random layouts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

from compiler.editors.printer import WIDTH, format_text
from compiler.editors.tokens import comments, parse_tree

from .ast_shape import module_shape
from .programs import programs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").rglob("*.mlx"))


def comment_texts(text: str) -> list[str]:
    return [c.text for c in comments(text, parse_tree(text))]


def check_formatting(text: str) -> str:
    once = format_text(text)
    assert format_text(once) == once, "formatting twice changes the text"
    assert module_shape(once) == module_shape(text), "formatting changed the AST"
    # Sorted: a comment inside something that cannot break (`a.b`, a
    # declaration's header) moves before its element, ahead of comments
    # that stay inside the element's brackets.
    assert sorted(comment_texts(once)) == sorted(comment_texts(text)), "formatting lost a comment"
    return once


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_format_safely(path):
    check_formatting(path.read_text(encoding="utf-8"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 3


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
@example("stage s : T(a = 1) // c\n for i in [1] { x = 1 }")
def test_random_programs_format_safely(text):
    formatted = check_formatting(text)
    assert not formatted.startswith("\n") and (formatted == "" or formatted.endswith("\n"))
    if '"""' not in text:  # a multi-line string may hold blank lines
        assert "\n\n\n" not in formatted and " \n" not in formatted


@settings(max_examples=50, deadline=None)
@given(programs())
def test_short_lines_stay_in_width(text):
    """A line goes past the width only when it holds a string, a single
    long token or a comment that cannot be split."""
    for line in format_text(text).splitlines():
        if len(line) > WIDTH:
            assert '"' in line or "//" in line, line
