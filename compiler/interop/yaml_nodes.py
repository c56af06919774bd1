"""YAML read as a node graph that keeps positions.

MLDev files are full of custom tags (`!BasicStage`, `!path`, a user's own
classes) and of anchors shared between objects. Composing (not constructing)
the document keeps both: every node carries its start and end marks, an alias
is the very node object its anchor names, and no tag needs a constructor, so an
unknown one is reported instead of crashing the loader."""

from __future__ import annotations

from collections.abc import Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..frontend.limits import MAX_NESTING
from ..ir import Span
from .unicode import SURROGATE_ESCAPE, join_surrogates

MERGE_TAG = "tag:yaml.org,2002:merge"
_STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"


class _TooLarge:
    """A number too large to convert (5,000 digits); no mlx value holds it."""

    def __repr__(self) -> str:
        return "TOO_LARGE"


TOO_LARGE = _TooLarge()


class PositionedLoader(yaml.SafeLoader):
    """A safe loader used only to compose: nodes with marks, aliases shared.
    Composing recurses once per level of nesting, so the depth is limited
    here, with the position of the node that goes too deep."""

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_NESTING} deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def compose(text: str) -> Node | None:
    """The document's root node (None for an empty document). Raises
    yaml.YAMLError, with a mark, for text that is not one YAML document."""
    loader = PositionedLoader(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    if root is not None and SURROGATE_ESCAPE.search(text):
        _join_surrogates(root)
    return root


def _join_surrogates(root: Node) -> None:
    for node in scalars(root):
        node.value = join_surrogates(node.value)


def scalars(root: Node) -> Iterator[ScalarNode]:
    """Every scalar node (keys too) once, in document order."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            yield node
        else:
            todo.extend(reversed(list(_children(node))))


def recursive_alias(root: Node) -> Node | None:
    """A node that contains itself through an alias (`a: &a {b: *a}`), or
    None. Everything downstream walks the graph as a tree, so such a document
    is rejected first."""
    state: dict[int, bool] = {}  # id -> finished; absent: not seen yet
    stack: list[tuple[Node, Iterator[Node]]] = [(root, _children(root))]
    state[id(root)] = False
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            state[id(node)] = True
            stack.pop()
        elif id(child) not in state:
            state[id(child)] = False
            stack.append((child, _children(child)))
        elif not state[id(child)]:
            return child
    return None


def oversized(root: Node, max_depth: int, max_nodes: int) -> tuple[Node, str] | None:
    """The first node past a limit, with what it exceeds, or None. The
    document is walked as the tree the translator sees, where every alias is
    a copy of its anchor: `a: &a [x, x]`, `b: &b [*a, *a]`, ... doubles at
    each level (an alias bomb), so sizes are counted per node once and summed
    (the graph has no cycles: recursive_alias runs first)."""
    size: dict[int, int] = {}
    stack: list[tuple[Node, int, Iterator[Node]]] = [(root, 1, _children(root))]
    if max_depth < 1:
        return root, "nesting"
    while stack:
        node, depth, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            size[id(node)] = 1 + sum(size[id(c)] for c in _children(node))
            if size[id(node)] > max_nodes:
                return node, "size"
        elif id(child) not in size:
            if depth + 1 > max_depth:
                return child, "nesting"
            stack.append((child, depth + 1, _children(child)))
    return None


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, SequenceNode):
        yield from node.value
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield key
            yield value


def span(node: Node, file: str) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(
        file=file,
        line=start.line + 1,
        column=start.column + 1,
        end_line=end.line + 1,
        end_column=end.column + 1,
    )


def mark_span(mark: yaml.Mark, file: str) -> Span:
    return Span(file=file, line=mark.line + 1, column=mark.column + 1,
                end_line=mark.line + 1, end_column=mark.column + 2)


def custom_tag(node: Node) -> str | None:
    """`BasicStage` for a node tagged `!BasicStage`; None for plain YAML."""
    if node.tag.startswith("!"):
        return node.tag[1:]
    return None


def scalar_value(node: ScalarNode) -> object:
    """The Python value of a plain or standard-tagged scalar (int, float, bool,
    None, str); the raw text for a custom-tagged one."""
    if not node.tag.startswith(_STANDARD_TAG_PREFIX):
        return node.value
    constructor = yaml.SafeLoader("")
    try:
        return constructor.construct_object(node)
    except yaml.constructor.ConstructorError:
        return node.value
    except ValueError:  # an int of thousands of digits: Python refuses to convert it
        return TOO_LARGE
    finally:
        constructor.dispose()


def mapping_items(node: MappingNode) -> list[tuple[str, Node, Node]]:
    """(key, key node, value node) in order, with `<<: *base` merge keys
    applied: keys written here override merged ones."""
    merged: dict[str, tuple[Node, Node]] = {}
    own: dict[str, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE_TAG:
            for source in _merge_sources(value_node):
                for key, k, v in mapping_items(source):
                    merged.setdefault(key, (k, v))
        elif isinstance(key_node, ScalarNode):
            own[str(key_node.value)] = (key_node, value_node)
    combined = {**merged, **own}
    return [(key, k, v) for key, (k, v) in combined.items()]


def _merge_sources(node: Node) -> Iterator[MappingNode]:
    if isinstance(node, MappingNode):
        yield node
    elif isinstance(node, SequenceNode):
        yield from (item for item in node.value if isinstance(item, MappingNode))


def get(node: Node, key: str) -> Node | None:
    """The value of `key` in a mapping node; None when absent or not a mapping."""
    if not isinstance(node, MappingNode):
        return None
    for item_key, _, value in mapping_items(node):
        if item_key == key:
            return value
    return None


def is_null(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and scalar_value(node) is None)
