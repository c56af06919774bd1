"""What the front end keeps alive (issue 19): the syntax tree is freed by
reference counting once the IR is built, since the command line runs without
the cyclic garbage collector, and IR instances share their fields-set."""

from __future__ import annotations

import gc
from pathlib import Path

from compiler import ir
from compiler.frontend import ast as A
from compiler.frontend import load

ROOT = Path(__file__).resolve().parents[2]


def _alive(kind: type) -> int:
    return sum(1 for o in gc.get_objects() if type(o) is kind)


def test_the_syntax_tree_is_freed_without_the_cycle_collector(monkeypatch):
    monkeypatch.chdir(ROOT)
    gc.collect()
    before = _alive(A.Stage)
    gc.disable()
    try:
        experiment, diags, _ = load("examples/quickstart.mlx")
        assert experiment is not None, diags
        assert _alive(A.Stage) == before  # no stage of the file outlives the front end
    finally:
        gc.enable()


def test_instances_given_the_same_fields_share_one_set():
    a = ir.Span(file="a.mlx", line=1, column=1, end_line=1, end_column=2)
    b = ir.Span(file="b.mlx", line=3, column=1, end_line=3, end_column=9)
    first = ir.Output(name="x", path="x.txt", span=a)
    second = ir.Output(name="y", path="y.txt", span=b)
    assert first.model_fields_set == second.model_fields_set == {"name", "path", "span"}
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__
    bigger = first.model_copy(update={"size": 3})
    assert bigger.size == 3 and "size" in bigger.model_fields_set
    assert "size" not in first.model_fields_set  # the shared set was copied, not changed
    assert ir.Output(name="y", path="y.txt", span=b).model_fields_set == {"name", "path", "span"}
