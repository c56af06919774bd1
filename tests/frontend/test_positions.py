"""ast.Pos: a position packed in one int (a large file's syntax tree holds a
million of them), read back field by field exactly, narrow or wide."""

import copy
import pickle
import sys

import pytest

from compiler.frontend import ast as A
from compiler.frontend import descent
from compiler.ir import Span

CASES = [
    ("a.mlx", 1, 1, 1, 1),
    ("a.mlx", 3, 5, 3, 9),
    ("dir/b.mlx", 255, 255, 255, 255),  # the narrow width's edge
    ("c.mlx", 7, 256, 7, 300),  # a column past it
    ("c.mlx", 10, 4, 400, 2),  # many lines apart
    ("d.mlx", 2_000_000, 1, 2_000_001, 10**6),  # the hover's whole-line end column
]


@pytest.mark.parametrize("fields", CASES)
def test_a_position_reads_back_what_it_was_given(fields):
    pos = A.Pos(*fields)
    assert pos.fields() == fields
    assert (pos.file, pos.line, pos.column, pos.end_line, pos.end_column) == fields
    assert pos.span() is pos and pos == Span(*fields)  # the IR's span is the node's position
    assert pos == A.Pos(*fields) and hash(pos) == hash(A.Pos(*fields))
    assert pickle.loads(pickle.dumps(pos)) == pos and copy.deepcopy(pos) == pos
    assert repr(pos) == "Span(file=%r, line=%d, column=%d, end_line=%d, end_column=%d)" % fields


def test_positions_differ_in_every_field():
    base = ("a.mlx", 3, 5, 4, 9)
    changed = [("b.mlx", 3, 5, 4, 9), ("a.mlx", 2, 5, 4, 9), ("a.mlx", 3, 6, 4, 9), ("a.mlx", 3, 5, 5, 9),
               ("a.mlx", 3, 5, 4, 8)]
    assert all(A.Pos(*base) != A.Pos(*other) for other in changed)


def test_to_spans_from_one_start_to_another_end():
    start, end = A.Pos("a.mlx", 2, 3, 2, 8), A.Pos("a.mlx", 300, 1, 301, 400)
    assert start.to(end).fields() == ("a.mlx", 2, 3, 301, 400)
    narrow_end = A.Pos("a.mlx", 2, 10, 2, 12)
    # the parser's fast path builds the same int as Pos itself
    assert descent._Parser.span(start, narrow_end) == A.Pos("a.mlx", 2, 3, 2, 12)
    assert descent._Parser.span(start, end) == A.Pos("a.mlx", 2, 3, 301, 400)


def test_the_scanner_builds_the_positions_pos_would():
    text = 'stage s {\n  run = """a\nb"""\n  x = 1\n}\n' + " " * 300 + "y"
    kinds, texts, positions = descent.scan(text, "s.mlx")
    assert [p.fields() for p in positions if p is not None][:3] == [
        ("s.mlx", 1, 1, 1, 6), ("s.mlx", 1, 7, 1, 8), ("s.mlx", 1, 9, 1, 10)]
    assert positions[-2].fields() == ("s.mlx", 6, 301, 6, 302)  # `y`, past column 255
    for pos in positions:
        if pos is not None:
            assert pos == A.Pos(*pos.fields())


def test_a_position_costs_less_than_a_tuple_of_its_fields():
    pos = A.Pos("a.mlx", 1200, 17, 1200, 40)
    assert sys.getsizeof(pos) < sys.getsizeof(("a.mlx", 1200, 17, 1200, 40)) * 0.7


def test_a_field_below_zero_reads_as_zero():
    # the language server's arithmetic on a position must not fail
    assert A.Pos("a.mlx", 3, -2, 2, -1).fields() == ("a.mlx", 3, 0, 3, 0)
