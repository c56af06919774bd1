"""The fast parser: a hand-written recursive descent over grammar/mlx.lark
with its own regular-expression scanner, building exactly the syntax tree
lalr.py (lark's LALR parser with syntax._Builder's callbacks) builds,
positions included.

Design: this parser is the happy path only. It reports nothing: on any
syntax error, on a limit (limits.py: name length, bracket nesting), or on
anything it is not sure lark would accept, it returns None and the file is
parsed again from the start by lalr.py, so every syntax diagnostic (E0101
with its `expected ...` list from the LALR tables, recovery, E0102, E0103,
E0106, E0109) is lark's, and grammar/mlx.lark stays the specification (the
editors' files and the docs are made from it). lark is not even imported
when a file parses cleanly. tests/frontend/test_descent.py holds the two
parsers to the same trees and the same verdicts.

Why: lark's driver alone (its LALR loop and Token objects, every callback a
no-op) costs more than the whole front end may spend on a 20,000-task file
(docs/benchmarks.md, "Parsing and memory (issue 19)").

Tokens are lark's, from the same pattern (lexer.MlxLexer builds it from
the grammar; a test compares the two), but for one shortcut: a port on
one line (`in x = file("p", size = 1B)`, `in x = stage.out`) is scanned
as one token (PORT, PORT_REF; see `_PAIRS_WITH_PORTS`). Keywords are
contextual, as in lark: a word is a keyword only where lark's parser
state can take that keyword.
lark's LALR states merge contexts, so after a value (a field's, say) its
state takes every word that may follow any value anywhere: `site`,
`stage`, `in`, ... there are keywords even inside a `{ }` where only a
field name can follow, and lark rejects such a field. The parser mirrors
that (`_AFTER_VALUE`) by falling back, so lark reports it."""

from __future__ import annotations

import re
import sys
from itertools import islice

from ..span import NARROW, file_number
from . import ast as A
from .limits import MAX_NAME_LENGTH, MAX_NESTING
from .parsed import DECL_KEYWORDS, QUANTITY_SPLIT, RawString, ZipAxes, parse_number

# The pattern lexer.MlxLexer builds from the grammar's terminals (the same
# text: tests/frontend/test_descent.py). Possessive skip: see lexer.py.
_SKIP = r"(?:[ \t\f\r\n]++|//[^\n]*+)*+"
_TERMINALS = (
    ("LONG_STRING", r'"""[\s\S]*?"""'),
    ("STRING", '"(?:[^"\\\\\n]|\\\\.)*+"'),
    ("QUANTITY", r"-?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?(?![eE][+-]?\d)"
                 r"([A-Za-z][A-Za-z0-9]*(\/[A-Za-z]+)?|\/[A-Za-z]+)"),
    ("NUMBER", r"-?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?"),
    ("NAME", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("LINK_OP", r"(?:<\->|\->)"),
    ("SEMICOLON", ";"), ("COLON", ":"), ("EQUAL", "="), ("LBRACE", r"\{"), ("RBRACE", r"\}"),
    ("COMMA", ","), ("LPAR", r"\("), ("RPAR", r"\)"), ("LSQB", r"\["), ("RSQB", r"\]"), ("DOT", r"\."),
    ("_END", r"\Z"),
)
PATTERN = re.compile(_SKIP + "(?:" + "|".join(f"(?P<{name}>{rx})" for name, rx in _TERMINALS) + ")")


def _plain(rx: str) -> str:
    """`rx` with its groups made non-capturing."""
    return re.sub(r"(?<!\\)\((?!\?)", "(?:", rx)


# The same, for findall: (skipped text, token) pairs, scanned in C; a token
# that starts with a digit, `-` or `.` is told apart by `_NUMBER` (a
# QUANTITY never spells a whole NUMBER: its unit is not an exponent). Names
# and the commonest punctuation are tried first: the order of two
# alternatives only matters when they can start with the same character
# (`"`: LONG_STRING before STRING; `-`, `.`, digits: QUANTITY before NUMBER
# before LINK_OP and DOT), and those keep lark's order.
_FIRST = ("NAME", "EQUAL", "LBRACE", "RBRACE", "COMMA", "LPAR", "RPAR")
_PAIRS = re.compile(f"({_SKIP})(" + "|".join(
    _plain(rx) for _, rx in sorted(_TERMINALS, key=lambda t: t[0] not in _FIRST)) + ")")
_NUMBER = re.compile(dict(_TERMINALS)["NUMBER"])
_GROUPS = re.Match.groups

# A port written the way a large workflow writes nearly every line of it,
# `in name = f("path", size = 12B)` or `in name = stage.port`, is one token
# for the parser (kinds PORT and PORT_REF): ten or five fewer trips through
# the scanner's and the parser's Python loops for each file reference. The
# pattern is the same tokens in a row with only blanks between them (at
# least one space after `in` or `out`, which is how the scanner tells it
# from a name), each token spelled as the scanner would cut it there:
# names not over the length limit (`true` and `false` are values, not
# names, where a value starts), a STRING that is not the start of a
# LONG_STRING, the QUANTITY the token pattern takes first (atomic); a
# `stage.port` no `.` follows, with one space each side of its `=` (the
# parser cuts it with str.split). Any other spelling (a comment or a line
# break inside, a number for the size, ...) is scanned token by token as
# before. Where the parser meets a PORT token it does not read as a port
# (`a = x.in b = c.d`, `in` a name there), it splits the declaration's port
# tokens into the tokens they are made of and reads it again
# (`split_ports`): a port token can only cost time, never change a tree or
# a verdict (tests/frontend/test_descent.py holds both parsers to the same).
_BLANK = r"[ \t]*+"
_WORD = rf"[A-Za-z_][A-Za-z0-9_]{{0,{MAX_NAME_LENGTH - 1}}}+(?![A-Za-z0-9_])"
_VALUE_WORD = rf"(?!(?:true|false)(?![A-Za-z0-9_])){_WORD}"
_PORT_HEAD = rf"(in|out) {_BLANK}({_WORD}){_BLANK}={_BLANK}({_VALUE_WORD}){_BLANK}"
_PORT_CALL = (rf'{_PORT_HEAD}\({_BLANK}((?!""")"(?:[^"\\\n]|\\.)*+")'
              rf"(?:{_BLANK},{_BLANK}({_VALUE_WORD}){_BLANK}={_BLANK}((?>{_plain(dict(_TERMINALS)['QUANTITY'])})))?"
              rf"{_BLANK}\)")
# Spelled as `mlc fmt` and `mlc import` write it, one space each side of
# `=` and none around `.`, so that the parser can cut it with str.split.
_PORT_REF = rf"(?:in|out) {_WORD} = {_VALUE_WORD}\.{_WORD}(?!{_SKIP}\.)"
_PORT_CALL_PARTS = re.compile(_PORT_CALL)
_PAIRS_WITH_PORTS = re.compile(f"({_SKIP})(" + "|".join(
    [_plain(_PORT_CALL), _plain(_PORT_REF)]
    + [_plain(rx) for _, rx in sorted(_TERMINALS, key=lambda t: t[0] not in _FIRST)]) + ")")

# Tokens are three parallel lists: kinds, texts and positions (ast.Pos,
# shared by the nodes built on them; None for `=`, `,`, `:`, `;` and `.`). A
# punctuation token's kind is its character; a word's is NAME, keyword or
# not (the parser decides).
_KIND_OF_FIRST = {c: c for c in ";:={},()[]"}
_KIND_OF_FIRST.update({c: "NAME" for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"})
_KIND_OF_FIRST.update({c: "?" for c in "0123456789-."})  # a number, a quantity, `->` or `.`
_KIND_OF_FIRST.update({'"': "STRING", "<": "LINK_OP", "": "$END"})
_UNPLACED = frozenset("=,:;")  # no node's position starts or ends at one: no Pos made
_OPENING = frozenset("{[(")
_CLOSING = frozenset("}])")

# Words lark lexes as keywords after a value (its states after any token
# that ends a value); after a call's `)` also `for` (`stage s: t() for ...`).
_AFTER_VALUE = frozenset(DECL_KEYWORDS + ("in", "out", "partition", "pool"))
_AFTER_CALL = _AFTER_VALUE | {"for"}
_AFTER_BLOCK = frozenset(DECL_KEYWORDS)  # after a pool's `}` inside a site
_NOTHING: frozenset = frozenset()

_int_new = int.__new__
_Pos = A.Pos
# A Pos of the least width (span.Span, span.NARROW): every field but the
# line under 256, the common case the scanner and `span` build without
# span.pack. The shifts are span.pack's layout at that width.
_NARROW = NARROW
_LIMIT = 1 << _NARROW  # each narrow field is below it
_FIELD = _LIMIT - 1
_COLUMN_SHIFT = 6 + _NARROW
_LINES_SHIFT = 6 + 2 * _NARROW
_FILE_SHIFT = 6 + 3 * _NARROW
_LINE_SHIFT = 6 + 4 * _NARROW
_END_COLUMN_BITS = _FIELD << 6
_WITHOUT_END = ~(_FIELD << _LINES_SHIFT | _END_COLUMN_BITS)
_intern = sys.intern


class _NotClean(Exception):
    """The text is not one this parser vouches for: lark's path decides."""


def _numeric(text: str) -> str:
    """The kind of a token starting with a digit, `-` or `.` other than `.` itself."""
    if text[0] == "-" and text[1:2] == ">":
        return "LINK_OP"
    return "NUMBER" if _NUMBER.fullmatch(text) else "QUANTITY"


# The scanner runs ahead of the parser by batches: the token lists of a
# 20,000-task file would outweigh its syntax tree (about 80 bytes a token).
# A batch is a few hundred stages: the tokens not yet parsed add little to
# the front end's peak, and re-reading a declaration that runs past a batch
# (a fan-in of thousands of files) costs no measurable time.
_BATCH = 10_000
_LOW = 2_000  # fewer tokens left than this before a declaration: scan on


class _Tokens:
    """The token lists, filled a batch at a time from one streamed
    `finditer` over the text (the scanner's state kept between batches);
    `drop` forgets the tokens the parser is done with."""

    __slots__ = ("kinds", "texts", "positions", "pairs", "file", "number", "size", "pos", "line", "line_start",
                 "depth", "done")

    def __init__(self, text: str, file: str, pairs: re.Pattern = _PAIRS, line: int = 1, column: int = 1) -> None:
        """`text` from `pairs`' matches; its first character at `line`, `column`."""
        self.kinds: list[str] = []
        self.texts: list[str] = []
        self.positions: list[A.Pos | None] = []
        self.pairs = map(_GROUPS, pairs.finditer(text))
        self.file = file
        self.number = file_number(file)
        self.size = len(text)
        self.pos, self.line, self.line_start, self.depth = 0, line, 1 - column, 0
        self.done = False  # `$END` scanned

    def drop(self, count: int) -> None:
        del self.kinds[:count], self.texts[:count], self.positions[:count]

    def scan(self, count: int | None) -> None:
        """Scan up to `count` more tokens (None: all); _NotClean on a
        character no token starts with or a limit (lark's path reports both)."""
        add_kind, add_text, add_position = self.kinds.append, self.texts.append, self.positions.append
        kind_of = _KIND_OF_FIRST
        file = self.file
        pos, line, line_start, depth = self.pos, self.line, self.line_start, self.depth
        # the bits of a narrow Pos on this line but the columns (-1: none is narrow)
        number = self.number
        narrow = line << _LINE_SHIFT | number << _FILE_SHIFT | _NARROW if number < _LIMIT else -1
        for skipped, value in islice(self.pairs, count):
            if skipped:
                if "\n" in skipped:
                    line += skipped.count("\n")
                    line_start = pos + skipped.rindex("\n") + 1
                    if narrow >= 0:
                        narrow = line << _LINE_SHIFT | number << _FILE_SHIFT | _NARROW
                pos += len(skipped)
            kind = kind_of.get(value[:1])
            if kind is None:  # a digit outside ASCII: the terminals' \d, as lark's lexer, matches any
                kind = "?"
            size = len(value)
            column = pos - line_start + 1
            if kind == "NAME":
                if " " in value:  # a whole port: _PAIRS_WITH_PORTS
                    if value[-1] == ")":
                        kind = "PORT"
                        if depth >= MAX_NESTING:  # its `(`
                            raise _NotClean
                    else:
                        kind = "PORT_REF"
                elif size > MAX_NAME_LENGTH:
                    raise _NotClean
            elif kind in _UNPLACED:
                add_kind(kind)
                add_text(value)
                add_position(None)
                pos += size
                continue
            elif kind in _OPENING:
                depth += 1
                if depth > MAX_NESTING:
                    raise _NotClean
            elif kind in _CLOSING:
                if depth:
                    depth -= 1
            elif kind == "STRING":
                if value.startswith('"""'):
                    kind = "LONG_STRING"
                    newlines = value.count("\n")
                    if newlines:
                        first_line = line
                        line += newlines
                        line_start = pos + value.rindex("\n") + 1
                        pos += size
                        add_kind(kind)
                        add_text(value)
                        add_position(_Pos(file, first_line, column, line, pos - line_start + 1))
                        if narrow >= 0:
                            narrow = line << _LINE_SHIFT | number << _FILE_SHIFT | _NARROW
                        continue
            elif kind == "?":
                if value == ".":  # between names (`a.b`): no node's position starts or ends at one
                    add_kind(".")
                    add_text(value)
                    add_position(None)
                    pos += 1
                    continue
                kind = _numeric(value)
            elif kind == "$END":
                # finditer skips what no token matches: then the tokens fall short of the text
                if pos != self.size:
                    raise _NotClean
                add_kind(kind)
                add_text(value)
                add_position(_Pos(file, line, column, line, column))
                self.done = True
                return
            add_kind(kind)
            add_text(value)
            end = column + size
            if end < _LIMIT and narrow >= 0:
                add_position(_int_new(_Pos, narrow | column << _COLUMN_SHIFT | end << 6))
            else:
                add_position(_Pos(file, line, column, line, end))
            pos += size
        self.pos, self.line, self.line_start, self.depth = pos, line, line_start, depth
        if count is None:  # no `$END`: cannot happen (\Z matches at the end)
            raise _NotClean


def scan(text: str, file: str) -> tuple[list[str], list[str], list[A.Pos | None]] | None:
    """Kinds, texts and positions of all the tokens, the last one `$END`;
    None on a character no token starts with or a limit."""
    tokens = _Tokens(text, file)
    try:
        tokens.scan(None)
    except _NotClean:
        return None
    return tokens.kinds, tokens.texts, tokens.positions


def parse_module(text: str, file: str) -> list | None:
    """The declarations of a file as syntax._Builder builds them (strings
    not yet decoded), or None: parse it with lark."""
    try:
        return _Parser(_Tokens(text, file, _PAIRS_WITH_PORTS)).module()
    except (_NotClean, RecursionError):
        return None


def parse_value(text: str, file: str):
    """One value (a `-p name=value`), or None: parse it with lark."""
    try:
        tokens = _Tokens(text, file)
        tokens.scan(None)
        parser = _Parser(tokens)
        value = parser.value()
        if tokens.kinds[parser.i] != "$END":
            raise _NotClean
        return value
    except (_NotClean, RecursionError):
        return None


class _Parser:
    """Each method reads one rule of the grammar from token `self.i` on."""

    __slots__ = ("tokens", "kinds", "texts", "positions", "i", "file")

    def __init__(self, tokens: _Tokens) -> None:
        self.tokens = tokens
        # the same lists, changed in place as the scanner runs ahead
        self.kinds, self.texts, self.positions = tokens.kinds, tokens.texts, tokens.positions
        self.i = 0
        self.file = tokens.file

    # --- tokens ---------------------------------------------------------

    def expect(self, kind: str) -> int:
        """The index of the next token, which must be of `kind`."""
        i = self.i
        if self.kinds[i] != kind:
            raise _NotClean
        self.i = i + 1
        return i

    def word(self, text: str) -> None:
        i = self.i
        if self.kinds[i] != "NAME" or self.texts[i] != text:
            raise _NotClean
        self.i = i + 1

    @staticmethod
    def span(first: A.Pos, last: A.Pos) -> A.Pos:
        """From `first` to the end of `last`."""
        if first & 63 == _NARROW and last & 63 == _NARROW:
            lines = (last >> _LINE_SHIFT) + ((last >> _LINES_SHIFT) & _FIELD) - (first >> _LINE_SHIFT)
            if 0 <= lines < _LIMIT:
                return _int_new(_Pos, first & _WITHOUT_END | lines << _LINES_SHIFT | last & _END_COLUMN_BITS)
        return first.to(last)

    def raw_string(self, i: int) -> RawString:
        return RawString(self.kinds[i], self.texts[i], self.positions[i])

    # --- declarations ---------------------------------------------------

    def module(self) -> list:
        tokens = self.tokens
        kinds, texts = self.kinds, self.texts
        decls = []
        while True:
            i = self.i
            if not tokens.done and len(kinds) - i < _LOW:
                tokens.drop(i)
                self.i = i = 0
                tokens.scan(_BATCH)
            kind = kinds[i]
            if kind == "$END":
                return decls
            if kind == ";":
                self.i = i + 1
                continue
            if kind != "NAME":
                raise _NotClean
            declaration = _DECLARATIONS.get(texts[i])
            if declaration is None:
                raise _NotClean
            while True:
                self.i = i + 1
                try:
                    decls.append(declaration(self, self.positions[i]))
                    break
                except (_NotClean, IndexError) as refused:
                    # a port token where a port is not read (`a = x.in b = c.d`: `in` a
                    # name there): read what is left token by token
                    if type(refused) is _NotClean and self.split_ports(i):
                        continue
                    if tokens.done:
                        raise _NotClean from None
                # It runs past the tokens scanned so far (a stage reading
                # thousands of files): scan as many again, read it again.
                tokens.scan(max(_BATCH, len(kinds) - i))

    def split_ports(self, start: int) -> bool:
        """Replace every PORT and PORT_REF token from `start` on by the
        tokens it is made of; False when there is none."""
        kinds, texts, positions = self.kinds, self.texts, self.positions
        ports = [j for j in range(start, len(kinds)) if kinds[j] == "PORT" or kinds[j] == "PORT_REF"]
        for j in reversed(ports):
            _, line, column, _, _ = positions[j].fields()
            split = _Tokens(texts[j], self.file, _PAIRS, line, column)
            split.scan(None)
            del split.kinds[-1], split.texts[-1], split.positions[-1]  # `$END`
            kinds[j:j + 1], texts[j:j + 1], positions[j:j + 1] = split.kinds, split.texts, split.positions
        return bool(ports)

    def named(self) -> tuple[str, A.Pos]:
        i = self.expect("NAME")
        return _intern(self.texts[i]), self.positions[i]

    def import_decl(self, kw: A.Pos) -> A.Import:
        i = self.i
        if self.kinds[i] != "STRING" and self.kinds[i] != "LONG_STRING":
            raise _NotClean
        self.i = i + 1
        path = self.raw_string(i)
        return A.Import(path, self.span(kw, path.pos))

    def experiment_decl(self, kw: A.Pos) -> A.Experiment:
        name, name_pos = self.named()
        fields, close = self.block()
        return A.Experiment(name, name_pos, fields, self.span(kw, close))

    def secret_decl(self, kw: A.Pos) -> A.Secret:
        name, name_pos = self.named()
        fields, close = self.block()
        return A.Secret(name, name_pos, fields, self.span(kw, close))

    def dataset_decl(self, kw: A.Pos) -> A.Dataset:
        name, name_pos = self.named()
        fields, close = self.block()
        return A.Dataset(name, name_pos, fields, self.span(kw, close))

    def param_decl(self, kw: A.Pos) -> A.Param:
        name, name_pos = self.named()
        self.expect(":")
        type_ = self.type_expr()
        self.expect("=")
        value = self.value()
        return A.Param(name, name_pos, type_, value, self.span(kw, value.pos))

    def site_decl(self, kw: A.Pos) -> A.Site:
        name, name_pos = self.named()
        self.expect(":")
        kind, kind_pos = self.named()
        self.expect("{")
        kinds, texts = self.kinds, self.texts
        fields: list[A.Field] = []
        pools: list[A.PoolDecl] = []
        keywords = _NOTHING  # words lark would take as keywords here
        while True:
            i = self.i
            k = kinds[i]
            if k == "NAME":
                word = texts[i]
                if word == "partition" or word == "pool":
                    self.i = i + 1
                    pool, pool_pos = self.named()
                    pool_fields, close = self.block()
                    start = self.positions[i]
                    pools.append(A.PoolDecl(_intern(word), start, pool, pool_pos, pool_fields, self.span(start, close)))
                    keywords = _AFTER_BLOCK
                    continue
                if word in keywords:
                    raise _NotClean
                fields.append(self.field(i))
                keywords = _AFTER_CALL if kinds[self.i - 1] == ")" else _AFTER_VALUE
            elif k == ";":
                self.i = i + 1
                keywords = _NOTHING
            elif k == "}":
                self.i = i + 1
                return A.Site(name, name_pos, kind, kind_pos, fields, pools, self.span(kw, self.positions[i]))
            else:
                raise _NotClean

    def link_decl(self, kw: A.Pos) -> A.Link:
        source, source_pos = self.named()
        op = self.expect("LINK_OP")
        target, target_pos = self.named()
        fields, close = self.block()
        return A.Link(source, source_pos, self.texts[op] == "<->", target, target_pos, fields, self.span(kw, close))

    def template_decl(self, kw: A.Pos) -> A.Template:
        name, name_pos = self.named()
        self.expect("(")
        params: list[A.TemplateParam] = []
        self.separated(params.append, self.tparam, ")")
        self.expect(":")
        kind, kind_pos = self.named()
        body, close = self.body()
        return A.Template(name, name_pos, params, kind, kind_pos, body, self.span(kw, close))

    def tparam(self) -> A.TemplateParam:
        name, name_pos = self.named()
        self.expect(":")
        type_ = self.type_expr()
        default = None
        if self.kinds[self.i] == "=":
            self.i += 1
            default = self.value()
        return A.TemplateParam(name, name_pos, type_, default)

    def stage_decl(self, kw: A.Pos) -> A.Stage:
        name, name_pos = self.named()
        kinds = self.kinds
        call = None
        if kinds[self.i] == ":":
            self.i += 1
            call = self.call()
        sweep: list[A.SweepAxis] = []
        if kinds[self.i] == "NAME" and self.texts[self.i] == "for":
            self.i += 1
            while True:
                sweep.extend(self.sweep_axis())
                if kinds[self.i] != ",":
                    break
                self.i += 1
        body, close = self.body()
        return A.Stage(name, name_pos, call, sweep, body, self.span(kw, close))

    def service_decl(self, kw: A.Pos) -> A.Service:
        name, name_pos = self.named()
        call = None
        if self.kinds[self.i] == ":":
            self.i += 1
            call = self.call()
        body, close = self.body()
        return A.Service(name, name_pos, call, body, self.span(kw, close))

    def sweep_axis(self) -> list[A.SweepAxis]:
        kinds = self.kinds
        if kinds[self.i] != "(":
            name, name_pos = self.named()
            self.word("in")
            return [A.SweepAxis(name, name_pos, self.value())]
        opening = self.positions[self.i]
        self.i += 1
        names = [self.named()]
        while kinds[self.i] == ",":
            self.i += 1
            names.append(self.named())
        self.expect(")")
        self.word("in")
        values = self.value()
        together = A.Zip([n for n, _ in names], [p for _, p in names], values, self.span(opening, values.pos))
        return ZipAxes(together).axes()

    def call(self) -> A.Call:
        i = self.expect("NAME")
        if self.kinds[self.i] != "(":
            raise _NotClean
        self.i += 1
        return self.call_rest(i)

    def type_expr(self) -> A.TypeExpr:
        name, name_pos = self.named()
        if self.kinds[self.i] != "[":
            return A.TypeExpr(name, None, name_pos)
        self.i += 1
        arg = self.type_expr()
        close = self.positions[self.expect("]")]
        return A.TypeExpr(name, arg, self.span(name_pos, close))

    # --- blocks ---------------------------------------------------------

    def block(self) -> tuple[list[A.Field], A.Pos]:
        """`{ field* }`: the fields and the closing brace's position."""
        self.expect("{")
        kinds, texts = self.kinds, self.texts
        fields = []
        keywords = _NOTHING
        while True:
            i = self.i
            k = kinds[i]
            if k == "NAME":
                if texts[i] in keywords:
                    raise _NotClean
                fields.append(self.field(i))
                keywords = _AFTER_CALL if kinds[self.i - 1] == ")" else _AFTER_VALUE
            elif k == ";":
                self.i = i + 1
                keywords = _NOTHING
            elif k == "}":
                self.i = i + 1
                return fields, self.positions[i]
            else:
                raise _NotClean

    def body(self) -> tuple[A.Body, A.Pos]:
        """`{ (field | port)* }`: a stage's, service's or template's."""
        self.expect("{")
        kinds, texts, positions = self.kinds, self.texts, self.positions
        fields = []
        ports = []
        keywords = _NOTHING
        while True:
            i = self.i
            k = kinds[i]
            if k == "NAME":
                word = texts[i]
                if word == "in" or word == "out":
                    j = i + 1
                    if kinds[j] != "NAME" or kinds[j + 1] != "=":
                        raise _NotClean
                    self.i = j + 2
                    value = self.value()
                    ports.append(A.Port("in" if word == "in" else "out", _intern(texts[j]), positions[j], value,
                                        self.span(positions[i], value.pos)))
                elif word in keywords:
                    raise _NotClean
                else:
                    fields.append(self.field(i))
                keywords = _AFTER_CALL if kinds[self.i - 1] == ")" else _AFTER_VALUE
            elif k == "PORT":
                self.i = i + 1
                ports.append(self.port_call(i))
                keywords = _AFTER_CALL
            elif k == "PORT_REF":
                self.i = i + 1
                ports.append(self.port_ref(i))
                keywords = _AFTER_VALUE
            elif k == ";":
                self.i = i + 1
                keywords = _NOTHING
            elif k == "}":
                self.i = i + 1
                return A.Body(fields, ports), positions[i]
            else:
                raise _NotClean

    def port_call(self, i: int) -> A.Port:
        """Token `i`, a PORT: `in name = f("path", key = quantity)` on one line."""
        text, pos = self.texts[i], self.positions[i]
        parts = _PORT_CALL_PARTS.match(text)
        _, _, (n0, n1), (v0, _), (s0, s1), (k0, k1), (q0, q1) = parts.regs
        end = len(text)
        base = _narrow_base(pos)
        if base >= 0:  # `pos + a..b`, columns a to b of the token, is as narrow as the token
            name_pos = _int_new(_Pos, base + (n0 << _COLUMN_SHIFT) + (n1 << 6))
            call_pos = _int_new(_Pos, base + (v0 << _COLUMN_SHIFT) + (end << 6))
            string_pos = _int_new(_Pos, base + (s0 << _COLUMN_SHIFT) + (s1 << 6))
        else:
            name_pos, call_pos, string_pos = _wide_parts(pos, self.file, (n0, n1), (v0, end), (s0, s1))
        key = parts[5]
        if key is None:
            kwargs = ()
        else:
            if base >= 0:
                key_pos = _int_new(_Pos, base + (k0 << _COLUMN_SHIFT) + (k1 << 6))
                quantity_pos = _int_new(_Pos, base + (q0 << _COLUMN_SHIFT) + (q1 << 6))
            else:
                key_pos, quantity_pos = _wide_parts(pos, self.file, (k0, k1), (q0, q1))
            quantity = parts[6]
            split = QUANTITY_SPLIT.match(quantity)
            kwargs = (A.KwArg(_intern(key), key_pos, A.Quantity.of(split[1], _intern(split[2]), quantity,
                                                                   quantity_pos)),)
        call = A.Call(_intern(parts[3]), [RawString("STRING", parts[4], string_pos)], kwargs, call_pos)
        return A.Port("in" if parts[1] == "in" else "out", _intern(parts[2]), name_pos, call, pos)

    def port_ref(self, i: int) -> A.Port:
        """Token `i`, a PORT_REF: `in name = stage.port` (one space around `=`)."""
        text, pos = self.texts[i], self.positions[i]
        direction, name, _, dotted = text.split(" ")
        stage, output = dotted.split(".")
        name_start = len(direction) + 1
        name_end = name_start + len(name)
        if pos & 63 == _NARROW:  # _narrow_base, written out: one call per file reference
            base = (pos & ~_COLUMNS) + ((pos >> _COLUMN_SHIFT) & _FIELD) * _BOTH_COLUMNS
            name_pos = _int_new(_Pos, base + (name_start << _COLUMN_SHIFT) + (name_end << 6))
            ref_pos = _int_new(_Pos, base + ((name_end + 3) << _COLUMN_SHIFT) + (len(text) << 6))
        else:
            name_pos, ref_pos = _wide_parts(pos, self.file, (name_start, name_end), (name_end + 3, len(text)))
        return A.Port("in" if direction == "in" else "out", _intern(name), name_pos,
                      A.Ref((_intern(stage), _intern(output)), ref_pos), pos)

    def field(self, i: int) -> A.Field:
        """`name = value`, the name being token `i`."""
        if self.kinds[i + 1] != "=":
            raise _NotClean
        self.i = i + 2
        return A.Field(_intern(self.texts[i]), self.positions[i], self.value())

    # --- values ---------------------------------------------------------

    def value(self):
        kinds = self.kinds
        i = self.i
        k = kinds[i]
        self.i = i + 1
        if k == "NAME":
            word = self.texts[i]
            if word == "true" or word == "false":
                return A.Bool(word == "true", self.positions[i])
            after = kinds[i + 1]
            if after == "(":
                self.i = i + 2
                return self.call_rest(i)
            if after == "[":
                self.i = i + 2
                return self.select_rest(i)
            if after != ".":
                return A.Ref((_intern(word),), self.positions[i])
            names = [_intern(word)]
            last = i
            while kinds[self.i] == ".":
                self.i += 1
                last = self.expect("NAME")
                names.append(_intern(self.texts[last]))
            return A.Ref(tuple(names), self.span(self.positions[i], self.positions[last]))
        if k == "STRING" or k == "LONG_STRING":
            return self.raw_string(i)
        if k == "QUANTITY":
            text = self.texts[i]
            m = QUANTITY_SPLIT.match(text)
            return A.Quantity.of(m.group(1), _intern(m.group(2)), text, self.positions[i])
        if k == "NUMBER":
            text = self.texts[i]
            count = A.Num.of(parse_number(text), text, self.positions[i])
            if kinds[i + 1] != "NAME" or self.texts[i + 1] != "x":
                return count
            self.i = i + 2
            type_, type_pos = self.named()
            return A.GpuSpec(count, type_, type_pos, self.span(self.positions[i], type_pos))
        if k == "[":
            items: list = []
            close = self.positions[self.separated(items.append, self.value, "]")]
            return A.ListV(items, self.span(self.positions[i], close))
        if k == "{":
            entries: list[A.MapItem] = []
            close = self.positions[self.separated(entries.append, self.map_item, "}")]
            return A.MapV(entries, self.span(self.positions[i], close))
        raise _NotClean

    def map_item(self) -> A.MapItem:
        kinds = self.kinds
        i = self.i
        k = kinds[i]
        self.i = i + 1
        if k == "STRING" or k == "LONG_STRING":
            key = self.raw_string(i)
            key_pos = self.positions[i]
        elif k == "NAME":
            names = [self.texts[i]]
            last = i
            while kinds[self.i] == ".":
                self.i += 1
                last = self.expect("NAME")
                names.append(self.texts[last])
            key = ".".join(names)
            key_pos = self.positions[i] if last == i else self.span(self.positions[i], self.positions[last])
        else:
            raise _NotClean
        self.expect(":")
        return A.MapItem(key, key_pos, self.value())

    def separated(self, keep, item, close: str, at_least_one: bool = False) -> int:
        """`item (, item)* [,]` up to `close`, as the grammar writes every list
        (a trailing comma allowed; empty unless `at_least_one`): each item's
        result goes to `keep`. Returns the closing token's index."""
        kinds = self.kinds
        if at_least_one or kinds[self.i] != close:
            while True:
                keep(item())
                if kinds[self.i] != ",":
                    break
                self.i += 1
                if kinds[self.i] == close:
                    break
        return self.expect(close)

    def call_rest(self, name: int) -> A.Call:
        """After `name (`, `name` being the name token's index. `separated`
        written out (one call per port of a large workflow: no closure)."""
        kinds, texts, positions = self.kinds, self.texts, self.positions
        value = self.value
        args: list = []
        kwargs: list[A.KwArg] = []
        if kinds[self.i] != ")":
            while True:
                i = self.i
                if kinds[i] == "NAME" and kinds[i + 1] == "=" and texts[i] != "true" and texts[i] != "false":
                    self.i = i + 2
                    kwargs.append(A.KwArg(_intern(texts[i]), positions[i], value()))
                else:
                    args.append(value())
                i = self.i
                if kinds[i] != ",":
                    break
                self.i = i = i + 1
                if kinds[i] == ")":
                    break
        close = positions[self.expect(")")]
        return A.Call(_intern(texts[name]), args, tuple(kwargs), self.span(positions[name], close))

    def select_rest(self, name: int) -> A.Select:
        """After `name [`."""
        kinds = self.kinds
        keys: list[A.KwArg] = []

        def key() -> A.KwArg:
            word, word_pos = self.named()
            self.expect("=")
            return A.KwArg(word, word_pos, self.value())

        last = self.positions[self.separated(keys.append, key, "]", at_least_one=True)]
        names = []
        while kinds[self.i] == ".":
            self.i += 1
            word, last = self.named()
            names.append(word)
        start = self.positions[name]
        return A.Select(_intern(self.texts[name]), start, keys, names, self.span(start, last))


# A narrow one-line position without its columns, plus its column in both
# column fields: adding `a << _COLUMN_SHIFT | b << 6` gives columns a to b
# (0-based, end exclusive) of the token it is the position of.
_COLUMNS = _FIELD << _COLUMN_SHIFT | _END_COLUMN_BITS
_BOTH_COLUMNS = 1 << _COLUMN_SHIFT | 1 << 6


def _narrow_base(pos: A.Pos) -> int:
    """The base of a token's narrow position (above), or -1 if it is wider."""
    if pos & 63 != _NARROW:
        return -1
    return (pos & ~_COLUMNS) + ((pos >> _COLUMN_SHIFT) & _FIELD) * _BOTH_COLUMNS


def _wide_parts(pos: A.Pos, file: str, *ranges: tuple[int, int]) -> list[A.Pos]:
    """The positions of columns a to b (each range) of a token at `pos` on one line."""
    _, line, column, _, _ = pos.fields()
    return [_Pos(file, line, column + a, line, column + b) for a, b in ranges]


_DECLARATIONS = {
    "import": _Parser.import_decl, "experiment": _Parser.experiment_decl, "param": _Parser.param_decl,
    "secret": _Parser.secret_decl, "dataset": _Parser.dataset_decl, "site": _Parser.site_decl,
    "link": _Parser.link_decl, "template": _Parser.template_decl, "stage": _Parser.stage_decl,
    "service": _Parser.service_decl,
}

