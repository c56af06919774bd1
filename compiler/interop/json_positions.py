"""Where a value sits in a JSON text, for pointing a diagnostic at it.

Python's json module keeps no positions, so the text is composed again as
YAML (JSON is, for practical purposes, a subset of it), which does. This only
happens when there is something to report, once per file; when the text is not
composable (exotic escapes, tab characters), positions are simply absent."""

from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from ..ir import Span

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it

JsonPath = tuple[str | int, ...]


class JsonLocator:
    def __init__(self, text: str, file: str) -> None:
        self._text = text
        self._file = file
        self._root: Node | None = None
        self._composed = False

    def span(self, path: JsonPath) -> Span | None:
        """The span of the value at `path` (keys and list indices), or of its
        nearest existing ancestor; None when positions are unavailable."""
        node = self._compose()
        if node is None:
            return None
        for step in path:
            child = _child(node, step)
            if child is None:
                break
            node = child
        start, end = node.start_mark, node.end_mark
        if end.line == start.line:
            end_column = end.column
        else:  # a whole object: point at where it starts
            end_column = start.column + 1
        return Span(file=self._file, line=start.line + 1, column=start.column + 1,
                    end_line=start.line + 1, end_column=end_column + 1)

    def _compose(self) -> Node | None:
        if not self._composed:
            self._composed = True
            try:
                self._root = yaml.compose(self._text, Loader=_Loader)
            except yaml.YAMLError:
                self._root = None
        return self._root


def _child(node: Node, step: str | int) -> Node | None:
    if isinstance(node, MappingNode) and isinstance(step, str):
        for key, value in node.value:
            if key.value == step:
                return value
    if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return node.value[step]
    return None


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+"|[\[\]{}]')


def nesting_past(text: str, limit: int) -> int | None:
    """The offset of the first bracket nested deeper than `limit`, or None.
    Checked before parsing: json (and the YAML composer that finds positions)
    recurse per level and would fail with RecursionError, not a position."""
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > limit:
                return m.start()
        elif ch in "]}":
            depth -= 1
    return None


def offset_span(text: str, offset: int, length: int, file: str) -> Span:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Span(file=file, line=line, column=column, end_line=line, end_column=column + max(1, length))
