"""An AST as plain nested tuples without positions: two files that differ
only in layout and comments have equal shapes."""

from __future__ import annotations

import dataclasses

from compiler.diagnostics import Diagnostics
from compiler.frontend import ast as A
from compiler.frontend.syntax import parse_module


def shape(node):
    if isinstance(node, (list, tuple)):  # the tree's sequences are either
        return tuple(shape(x) for x in node)
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(
            (f.name, shape(getattr(node, f.name)))
            for f in dataclasses.fields(node)
            if not _position(getattr(node, f.name))
        )
    return node


def _position(value) -> bool:
    """A position, or a list of them (the names of a zipped sweep)."""
    return isinstance(value, A.Pos) or (isinstance(value, list) and bool(value)
                                        and all(isinstance(x, A.Pos) for x in value))


def module_shape(text: str):
    """The shape of a file's AST; fails the test when the file does not parse."""
    diags = Diagnostics()
    module = parse_module(text, "test.mlx", diags)
    assert module is not None, [d.message for d in diags.items]
    return shape(module.decls)
