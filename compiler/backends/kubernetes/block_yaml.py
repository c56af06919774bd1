"""A block-style YAML writer for the manifests: the plain dicts, lists,
strings, ints, bools and None the Kubernetes client's serialiser gives,
written as exactly the bytes PyYAML's emitter writes for them with the
manifest writer's options (serialise.py), several times faster.

PyYAML turns a document into nodes, then events, then runs a state machine
over them, all in pure Python; most of a Kubernetes compile went there.
This writer walks the data once and performs the emitter's own primitive
steps (write_indicator, write_indent, the scalar writers) in the order its
state machine does, so the layout, folding at the width and indentation
are PyYAML's by construction. The style of each string is decided by
PyYAML's analysis (`analyze`, its character loop as regular expressions)
and PyYAML's resolver, cached per text; anything this writer
does not reproduce with certainty raises `Unsupported` and the caller uses
PyYAML: double-quoted scalars, multi-line single-quoted ones, non-string
keys, complex keys, floats, shared (aliased) containers, a scalar or an
empty collection at the root. tests/backends/test_block_yaml.py holds it
byte-equal to PyYAML on random hostile documents."""

from __future__ import annotations

import io
import re
from typing import Any, Callable, NamedTuple

import yaml
from yaml.nodes import ScalarNode

_STR_TAG = "tag:yaml.org,2002:str"
_INDENT = 2  # PyYAML's best_indent, the default
_BREAKS = frozenset("\n\x85\u2028\u2029")
_EXOTIC_BREAK = re.compile("[\x85\u2028\u2029]")  # searched at C speed (a script is kilobytes)

# Words and runs of spaces (plain), and quotes too (single-quoted): the
# tokens at whose ends PyYAML's writers write and may fold.
_PLAIN_TOKENS = re.compile(r" +|[^ ]+")
_QUOTED_TOKENS = re.compile(r" +|'|[^ ']+")

# Emitter.analyze_scalar's character tests as regular expressions (C speed).
_WS = "\0 \t\r\n\x85\u2028\u2029"  # what "preceded/followed by whitespace" means there
_BREAK = "[\n\x85\u2028\u2029]"
_BLOCK_INDICATOR = re.compile(  # a '#' after whitespace, a ':' before it or at the end (not first)
    f"(?<=.)(?:(?<=[{_WS}])#|:(?=[{_WS}]|\\Z))", re.DOTALL)
_BREAK_SPACE = re.compile(f"{_BREAK} ")
_SPACE_BREAK = re.compile(f" {_BREAK}")
_NOT_PRINTABLE = {  # by allow_unicode
    False: re.compile("[^\n\x20-\x7e]"),
    True: re.compile("[^\n\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010fffe]|\ufeff"),
}


class Analysis(NamedTuple):
    """The part of yaml.emitter.ScalarAnalysis that chooses a block style."""
    empty: bool
    multiline: bool
    allow_block_plain: bool
    allow_single_quoted: bool
    allow_block: bool


def analyze(text: str, allow_unicode: bool) -> Analysis:
    """Emitter.analyze_scalar, for block context (what it says of flow
    plain scalars and double quotes is not needed here)."""
    if not text:
        return Analysis(True, False, True, True, False)
    first = text[0]
    followed_by_whitespace = len(text) == 1 or text[1] in _WS
    block_indicators = (
        text.startswith(("---", "..."))
        or first in "#,[]{}&*!|>'\"%@`"
        or (first in "?:-" and followed_by_whitespace)
        or _BLOCK_INDICATOR.search(text) is not None
    )
    line_breaks = any(b in text for b in "\n\x85\u2028\u2029")
    special = _NOT_PRINTABLE[allow_unicode].search(text) is not None
    edge_whitespace = first in " \n\x85\u2028\u2029" or text[-1] in " \n\x85\u2028\u2029"
    break_space = line_breaks and _BREAK_SPACE.search(text) is not None
    space_break_or_special = special or (line_breaks and _SPACE_BREAK.search(text) is not None)
    return Analysis(
        empty=False,
        multiline=line_breaks,
        allow_block_plain=not (edge_whitespace or break_space or space_break_or_special or line_breaks
                               or block_indicators),
        allow_single_quoted=not (break_space or space_break_or_special),
        allow_block=not (text[-1] == " " or space_break_or_special),
    )


class Unsupported(Exception):
    """The document holds something this writer leaves to PyYAML."""


class _Styles:
    """The scalar style PyYAML's emitter chooses for each string, as a
    mapping value and as a simple mapping key: '' plain, "'" single-quoted,
    '|' literal block, None for what this writer does not write."""

    def __init__(self, dumper: type[yaml.SafeDumper], block_style: Callable[[str], str | None],
                 allow_unicode: bool) -> None:
        self._dumper = dumper(io.StringIO(), allow_unicode=allow_unicode)
        self._block_style = block_style  # the dumper's str representer's style
        self._allow_unicode = allow_unicode
        self.known: dict[str, tuple[str | None, str | None]] = {}  # the styles chosen so far

    def of(self, text: str) -> tuple[str | None, str | None]:
        found = self.known.get(text)
        if found is None:
            if len(self.known) >= 200_000:
                self.known.clear()
            found = self.known[text] = self._choose(text)
        return found

    def _choose(self, text: str) -> tuple[str | None, str | None]:
        # Emitter.choose_scalar_style with flow_level 0 and the tag
        # resolution the serialiser does (implicit[0]: plain reads back as a
        # string); implicit[1] is always true for a string.
        requested = self._block_style(text)
        if requested == '"' or _EXOTIC_BREAK.search(text) is not None:
            return None, None
        empty, multiline, block_plain, single, block = analyze(text, self._allow_unicode)
        plain = self._dumper.resolve(ScalarNode, text, (True, False)) == _STR_TAG
        if not requested and plain and block_plain:
            value: str | None = ""
        elif requested == "|":
            value = "|" if block else None
        elif requested is None and single and not multiline:
            value = "'"
        else:
            value = None
        key: str | None = None
        # Emitter.check_simple_key: the text and its tag (!!str) under 128.
        if not empty and not multiline and len(text) + len("!!str") < 128:
            if requested is None and plain and block_plain:
                key = ""
            elif requested is None and single:
                key = "'"
        return value, key


class _Writer:
    """The emitter's state (column, whitespace, indention, indent) and its
    primitive writes, ported from yaml/emitter.py."""

    __slots__ = ("out", "column", "whitespace", "indention", "indent", "indents", "open_ended",
                 "width", "styles", "seen")

    def __init__(self, width: int, styles: _Styles) -> None:
        self.out: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.indent: int | None = None
        self.indents: list[int | None] = []
        self.open_ended = False
        self.width = width
        self.styles = styles
        self.seen: set[int] = set()

    # Emitter.write_indicator, write_indent, write_line_break.
    def indicator(self, text: str, need_whitespace: bool, whitespace: bool = False,
                  indention: bool = False) -> None:
        if need_whitespace and not self.whitespace:
            text = " " + text
        self.whitespace = whitespace
        self.indention = self.indention and indention
        self.column += len(text)
        self.open_ended = False
        self.out.append(text)

    def write_indent(self) -> None:
        indent = self.indent or 0
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.out.append("\n")
            self.whitespace = self.indention = True
            self.column = 0
        if self.column < indent:
            self.whitespace = True
            self.out.append(" " * (indent - self.column))
            self.column = indent

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        self.indents.append(self.indent)
        if self.indent is None:
            self.indent = _INDENT if flow else 0
        elif not indentless:
            self.indent += _INDENT

    # The node handlers: expect_node and the block collection states.
    def node(self, data: Any, mapping_context: bool) -> None:
        kind = type(data)
        if kind is str:
            self.scalar_str(data, simple_key=False)
        elif kind is dict:
            if data:
                self.block_mapping(data)
            else:
                self.empty_collection(data, "{", "}")
        elif kind is list:
            if data:
                self.block_sequence(data, mapping_context)
            else:
                self.empty_collection(data, "[", "]")
        elif kind is bool:
            self.scalar_plain("true" if data else "false")
        elif kind is int:
            self.scalar_plain(str(data))
        elif data is None:
            self.scalar_plain("null")
        else:
            raise Unsupported(kind.__name__)

    def _once(self, data: Any) -> None:
        # PyYAML writes an anchor and an alias for a container met twice.
        if id(data) in self.seen:
            raise Unsupported("a shared container")
        self.seen.add(id(data))

    def empty_collection(self, data: Any, start: str, end: str) -> None:
        # Emitter.expect_flow_mapping/sequence: `{}` and `[]` in flow style.
        self._once(data)
        self.indicator(start, True, whitespace=True)
        self.indicator(end, False)

    def block_mapping(self, data: dict) -> None:
        self._once(data)
        self.increase_indent()
        of = self.styles.of
        known = self.styles.known  # of()'s cache, read here first: a call per key and value was most of it
        out = self.out
        indent = self.indent or 0
        pad = " " * indent
        for key, value in data.items():
            # write_indent(), inline (once per key); it leaves whitespace
            # set: a key needs no space before it.
            if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
                out.append("\n")
                self.whitespace = self.indention = True
                self.column = 0
            if self.column < indent:
                self.whitespace = True
                out.append(pad[self.column:])
                self.column = indent
            if type(key) is not str:
                raise Unsupported("a key that is not a string")
            style = (known.get(key) or of(key))[1]
            if style == "":  # plain(key, split=False), then indicator(":", False)
                out.append(key)
                out.append(":")
                self.column += len(key) + 1
                self.whitespace = self.indention = self.open_ended = False
            elif style == "'":
                self.increase_indent(flow=True)
                self.single_quoted(key, split=False)
                self.indent = self.indents.pop()
                self.indicator(":", False)
            else:
                raise Unsupported("a complex key")
            # The most common value, a plain scalar that fits the line:
            # what scalar_str/scalar_plain and plain() write, inline.
            kind = type(value)
            if kind is str:
                text = value if (known.get(value) or of(value))[0] == "" else None
            elif kind is bool:
                text = "true" if value else "false"
            elif kind is int:
                text = str(value)
            elif value is None:
                text = "null"
            else:
                text = None
            if text and (self.column + 1 + len(text) <= self.width or " " not in text):
                out.append(" ")
                out.append(text)
                self.column += 1 + len(text)
            else:
                self.node(value, mapping_context=True)
        self.indent = self.indents.pop()

    def block_sequence(self, data: list, mapping_context: bool) -> None:
        self._once(data)
        self.increase_indent(indentless=mapping_context and not self.indention)
        for item in data:
            self.write_indent()
            self.indicator("-", True, indention=True)
            self.node(item, mapping_context=False)
        self.indent = self.indents.pop()

    # Scalars: expect_scalar, process_scalar and the writers.
    def scalar_plain(self, text: str) -> None:
        self.increase_indent(flow=True)
        self.plain(text, split=True)
        self.indent = self.indents.pop()

    def scalar_str(self, text: str, simple_key: bool) -> None:
        style = self.styles.of(text)[0]
        if style is None:
            raise Unsupported("a double-quoted scalar")
        self.increase_indent(flow=True)
        if style == "":
            self.plain(text, split=True)
        elif style == "'":
            self.single_quoted(text, split=True)
        else:
            self.literal(text)
        self.indent = self.indents.pop()

    def plain(self, text: str, split: bool) -> None:
        # Emitter.write_plain for a scalar without line breaks (a plain
        # scalar never has them): a single space folds the line once the
        # column is past the width.
        if not text:
            return
        if not self.whitespace:
            self.out.append(" ")
            self.column += 1
        self.whitespace = self.indention = False
        if not split or self.column + len(text) <= self.width or " " not in text:
            self.out.append(text)
            self.column += len(text)
            return
        for token in _PLAIN_TOKENS.findall(text):
            if token == " " and self.column > self.width:
                self.write_indent()
                self.whitespace = self.indention = False
            else:
                self.out.append(token)
                self.column += len(token)

    def single_quoted(self, text: str, split: bool) -> None:
        # Emitter.write_single_quoted for a scalar without line breaks:
        # quotes doubled, a single space inside folds past the width.
        self.indicator("'", True)
        if not split or self.column + len(text) + text.count("'") <= self.width or " " not in text:
            quoted = text.replace("'", "''")
            self.out.append(quoted)
            self.column += len(quoted)
        else:
            end = len(text)
            for match in _QUOTED_TOKENS.finditer(text):
                token = match.group()
                if token == "'":
                    self.out.append("''")
                    self.column += 2
                elif token == " " and self.column > self.width and match.start() != 0 and match.end() != end:
                    self.write_indent()
                else:
                    self.out.append(token)
                    self.column += len(token)
        self.indicator("'", False)

    def literal(self, text: str) -> None:
        # Emitter.write_literal for a scalar whose only breaks are \n and
        # that the analysis allows as a block (no trailing spaces, no
        # space before a break, no special characters).
        hints = str(_INDENT) if text[0] in " \n" else ""
        if text[-1] != "\n":
            hints += "-"
        elif len(text) == 1 or text[-2] == "\n":
            hints += "+"
        self.indicator("|" + hints, True)
        if hints.endswith("+"):
            self.open_ended = True
        pad = " " * (self.indent or 0)
        body = "\n".join(pad + line if line else "" for line in text.split("\n"))
        self.out.append("\n")
        self.out.append(body)
        if text[-1] != "\n":
            self.out.append("\n")
        self.column = 0
        self.whitespace = self.indention = True


def writer(dumper: type[yaml.SafeDumper], block_style: Callable[[str], str | None], *,
           allow_unicode: bool, width: int) -> Callable[[Any], str]:
    """A function writing one document as `yaml.dump(data, Dumper=dumper,
    sort_keys=False, default_flow_style=False, allow_unicode=...,
    width=...)` does, where `block_style(text)` is the style the dumper's
    str representer asks for ('|', '"' or None). It raises `Unsupported`
    for what it leaves to PyYAML."""
    styles = _Styles(dumper, block_style, allow_unicode)
    best_width = width if width > 2 * _INDENT else 80

    def write(data: Any) -> str:
        if type(data) not in (dict, list) or not data:
            raise Unsupported("a scalar or an empty collection at the root")
        w = _Writer(best_width, styles)
        w.node(data, mapping_context=False)
        w.write_indent()  # expect_document_end (indent back to None)
        if w.open_ended:  # a '|+' block last: the stream end marks it
            w.indicator("...", True)
            w.write_indent()
        return "".join(w.out)

    return write
