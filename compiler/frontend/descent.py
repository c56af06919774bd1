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
the grammar; a test compares the two). Keywords are contextual, as in lark:
a word is a keyword only where lark's parser state can take that keyword.
lark's LALR states merge contexts, so after a value (a field's, say) its
state takes every word that may follow any value anywhere: `site`,
`stage`, `in`, ... there are keywords even inside a `{ }` where only a
field name can follow, and lark rejects such a field. The parser mirrors
that (`_AFTER_VALUE`) by falling back, so lark reports it."""

from __future__ import annotations

import re
import sys

from . import ast as A
from .limits import MAX_NAME_LENGTH, MAX_NESTING
from .parsed import DECL_KEYWORDS, QUANTITY_SPLIT, RawString, ZipAxes, parse_number

# The pattern lexer.MlxLexer builds from the grammar's terminals (the same
# text: tests/frontend/test_descent.py). Possessive skip: see lexer.py.
_SKIP = r"(?:[ \t\f\r\n]++|//[^\n]*+)*+"
_TERMINALS = (
    ("LONG_STRING", r'"""[\s\S]*?"""'),
    ("STRING", '"(?:[^"\\\\\n]|\\\\.)*+"'),
    ("QUANTITY", r"-?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?(?![eE][+-]?\d)([A-Za-z][A-Za-z0-9]*(\/[A-Za-z]+)?|\/[A-Za-z]+)"),
    ("NUMBER", r"-?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?"),
    ("NAME", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("LINK_OP", r"(?:<\->|\->)"),
    ("SEMICOLON", ";"), ("COLON", ":"), ("EQUAL", "="), ("LBRACE", r"\{"), ("RBRACE", r"\}"),
    ("COMMA", ","), ("LPAR", r"\("), ("RPAR", r"\)"), ("LSQB", r"\["), ("RSQB", r"\]"), ("DOT", r"\."),
    ("_END", r"\Z"),
)
PATTERN = re.compile(_SKIP + "(?:" + "|".join(f"(?P<{name}>{rx})" for name, rx in _TERMINALS) + ")")

# A token is (kind, text, line, column, end_line, end_column); punctuation's
# kind is its character.
_PUNCT = {"SEMICOLON": ";", "COLON": ":", "EQUAL": "=", "LBRACE": "{", "RBRACE": "}", "COMMA": ",",
          "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "DOT": ".", "_END": "$END"}
_KIND_OF_GROUP = [None] * (PATTERN.groups + 1)
for _name, _index in PATTERN.groupindex.items():
    _KIND_OF_GROUP[_index] = sys.intern(_PUNCT.get(_name, _name))
_OPENING = frozenset("{[(")
_CLOSING = frozenset("}])")

# Words lark lexes as keywords after a value (its states after any token
# that ends a value); after a call's `)` also `for` (`stage s: t() for ...`).
_AFTER_VALUE = frozenset(DECL_KEYWORDS + ("in", "out", "partition", "pool"))
_AFTER_CALL = _AFTER_VALUE | {"for"}
_AFTER_BLOCK = frozenset(DECL_KEYWORDS)  # after a pool's `}` inside a site
_NOTHING: frozenset = frozenset()

_new = tuple.__new__
_Pos = A.Pos
_intern = sys.intern


class _NotClean(Exception):
    """The text is not one this parser vouches for: lark's path decides."""


def scan(text: str) -> list[tuple] | None:
    """The tokens, the last one `$END`; None on a character no token starts
    with or a limit (lark's path reports both)."""
    tokens: list[tuple] = []
    append = tokens.append
    count = text.count
    rfind = text.rfind
    match = PATTERN.scanner(text).match  # each match starts where the last ended
    kinds = _KIND_OF_GROUP
    pos, line, line_start, depth = 0, 1, 0, 0
    while True:
        m = match()
        if m is None:
            return None
        index = m.lastindex
        start = m.start(index)
        if start != pos:
            newlines = count("\n", pos, start)
            if newlines:
                line += newlines
                line_start = rfind("\n", pos, start) + 1
        kind = kinds[index]
        pos = m.end()
        value = text[start:pos]
        if kind == "NAME":
            if len(value) > MAX_NAME_LENGTH:
                return None
        elif kind in _OPENING:
            depth += 1
            if depth > MAX_NESTING:
                return None
        elif kind in _CLOSING:
            if depth:
                depth -= 1
        elif kind == "LONG_STRING":
            newlines = value.count("\n")
            if newlines:
                first_line, column = line, start - line_start + 1
                line += newlines
                line_start = start + value.rindex("\n") + 1
                append((kind, value, first_line, column, line, pos - line_start + 1))
                continue
        elif kind == "$END":
            append((kind, value, line, start - line_start + 1, line, start - line_start + 1))
            return tokens
        append((kind, value, line, start - line_start + 1, line, pos - line_start + 1))


def parse_module(text: str, file: str) -> list | None:
    """The declarations of a file as syntax._Builder builds them (strings
    not yet decoded), or None: parse it with lark."""
    tokens = scan(text)
    if tokens is None:
        return None
    try:
        return _Parser(tokens, file).module()
    except (_NotClean, RecursionError):
        return None


def parse_value(text: str, file: str):
    """One value (a `-p name=value`), or None: parse it with lark."""
    tokens = scan(text)
    if tokens is None:
        return None
    try:
        parser = _Parser(tokens, file)
        value = parser.value()
        if tokens[parser.i][0] != "$END":
            raise _NotClean
        return value
    except (_NotClean, RecursionError):
        return None


def _end(value) -> tuple[int, int]:
    """Where a value ends (a string is still its token)."""
    if type(value) is RawString:
        return value.end_line, value.end_column
    pos = value.pos
    return pos.end_line, pos.end_column


class _Parser:
    __slots__ = ("tokens", "i", "file")

    def __init__(self, tokens: list[tuple], file: str) -> None:
        self.tokens = tokens
        self.i = 0
        self.file = file

    # --- tokens ---------------------------------------------------------

    def expect(self, kind: str) -> tuple:
        t = self.tokens[self.i]
        if t[0] != kind:
            raise _NotClean
        self.i += 1
        return t

    def word(self, text: str) -> tuple:
        t = self.tokens[self.i]
        if t[0] != "NAME" or t[1] != text:
            raise _NotClean
        self.i += 1
        return t

    def pos(self, t: tuple) -> A.Pos:
        return _new(_Pos, (self.file, t[2], t[3], t[4], t[5]))

    def span(self, first: tuple, end: tuple) -> A.Pos:
        """From token `first` to `end`, an (end_line, end_column) pair."""
        return _new(_Pos, (self.file, first[2], first[3], end[0], end[1]))

    # --- declarations ---------------------------------------------------

    def module(self) -> list:
        tokens = self.tokens
        decls = []
        while True:
            t = tokens[self.i]
            kind = t[0]
            if kind == "$END":
                return decls
            if kind == ";":
                self.i += 1
                continue
            if kind != "NAME":
                raise _NotClean
            declaration = _DECLARATIONS.get(t[1])
            if declaration is None:
                raise _NotClean
            self.i += 1
            decls.append(declaration(self, t))

    def import_decl(self, kw: tuple) -> A.Import:
        t = self.tokens[self.i]
        if t[0] != "STRING" and t[0] != "LONG_STRING":
            raise _NotClean
        self.i += 1
        return A.Import(RawString(*t), self.span(kw, (t[4], t[5])))

    def experiment_decl(self, kw: tuple) -> A.Experiment:
        name = self.expect("NAME")
        fields, close = self.block()
        return A.Experiment(_intern(name[1]), self.pos(name), fields, self.span(kw, (close[4], close[5])))

    def secret_decl(self, kw: tuple) -> A.Secret:
        name = self.expect("NAME")
        fields, close = self.block()
        return A.Secret(_intern(name[1]), self.pos(name), fields, self.span(kw, (close[4], close[5])))

    def dataset_decl(self, kw: tuple) -> A.Dataset:
        name = self.expect("NAME")
        fields, close = self.block()
        return A.Dataset(_intern(name[1]), self.pos(name), fields, self.span(kw, (close[4], close[5])))

    def param_decl(self, kw: tuple) -> A.Param:
        name = self.expect("NAME")
        self.expect(":")
        type_ = self.type_expr()
        self.expect("=")
        value = self.value()
        return A.Param(_intern(name[1]), self.pos(name), type_, value, self.span(kw, _end(value)))

    def site_decl(self, kw: tuple) -> A.Site:
        name = self.expect("NAME")
        self.expect(":")
        kind = self.expect("NAME")
        self.expect("{")
        tokens = self.tokens
        fields: list[A.Field] = []
        pools: list[A.PoolDecl] = []
        keywords = _NOTHING  # words lark would take as keywords here
        while True:
            t = tokens[self.i]
            k = t[0]
            if k == "NAME":
                word = t[1]
                if word == "partition" or word == "pool":
                    self.i += 1
                    pool_name = self.expect("NAME")
                    pool_fields, close = self.block()
                    pools.append(A.PoolDecl(_intern(word), self.pos(t), _intern(pool_name[1]), self.pos(pool_name),
                                            pool_fields, self.span(t, (close[4], close[5]))))
                    keywords = _AFTER_BLOCK
                    continue
                if word in keywords:
                    raise _NotClean
                fields.append(self.field(t))
                keywords = _AFTER_CALL if tokens[self.i - 1][0] == ")" else _AFTER_VALUE
            elif k == ";":
                self.i += 1
                keywords = _NOTHING
            elif k == "}":
                self.i += 1
                return A.Site(_intern(name[1]), self.pos(name), _intern(kind[1]), self.pos(kind), fields, pools,
                              self.span(kw, (t[4], t[5])))
            else:
                raise _NotClean

    def link_decl(self, kw: tuple) -> A.Link:
        source = self.expect("NAME")
        op = self.expect("LINK_OP")
        target = self.expect("NAME")
        fields, close = self.block()
        return A.Link(_intern(source[1]), self.pos(source), op[1] == "<->", _intern(target[1]), self.pos(target),
                      fields, self.span(kw, (close[4], close[5])))

    def template_decl(self, kw: tuple) -> A.Template:
        name = self.expect("NAME")
        self.expect("(")
        tokens = self.tokens
        params = []
        if tokens[self.i][0] != ")":
            while True:
                params.append(self.tparam())
                if tokens[self.i][0] != ",":
                    break
                self.i += 1
                if tokens[self.i][0] == ")":
                    break
        self.expect(")")
        self.expect(":")
        kind = self.expect("NAME")
        body, close = self.body()
        return A.Template(_intern(name[1]), self.pos(name), params, _intern(kind[1]), self.pos(kind), body,
                          self.span(kw, (close[4], close[5])))

    def tparam(self) -> A.TemplateParam:
        name = self.expect("NAME")
        self.expect(":")
        type_ = self.type_expr()
        default = None
        if self.tokens[self.i][0] == "=":
            self.i += 1
            default = self.value()
        return A.TemplateParam(_intern(name[1]), self.pos(name), type_, default)

    def stage_decl(self, kw: tuple) -> A.Stage:
        name = self.expect("NAME")
        tokens = self.tokens
        call = None
        if tokens[self.i][0] == ":":
            self.i += 1
            call = self.call()
        sweep: list[A.SweepAxis] = []
        t = tokens[self.i]
        if t[0] == "NAME" and t[1] == "for":
            self.i += 1
            while True:
                sweep.extend(self.sweep_axis())
                if tokens[self.i][0] != ",":
                    break
                self.i += 1
        body, close = self.body()
        return A.Stage(_intern(name[1]), self.pos(name), call, sweep, body, self.span(kw, (close[4], close[5])))

    def service_decl(self, kw: tuple) -> A.Service:
        name = self.expect("NAME")
        call = None
        if self.tokens[self.i][0] == ":":
            self.i += 1
            call = self.call()
        body, close = self.body()
        return A.Service(_intern(name[1]), self.pos(name), call, body, self.span(kw, (close[4], close[5])))

    def sweep_axis(self) -> list[A.SweepAxis]:
        tokens = self.tokens
        t = tokens[self.i]
        if t[0] != "(":
            name = self.expect("NAME")
            self.word("in")
            return [A.SweepAxis(_intern(name[1]), self.pos(name), self.value())]
        self.i += 1
        names = [self.expect("NAME")]
        while tokens[self.i][0] == ",":
            self.i += 1
            names.append(self.expect("NAME"))
        self.expect(")")
        self.word("in")
        values = self.value()
        together = A.Zip([_intern(n[1]) for n in names], [self.pos(n) for n in names], values,
                         self.span(t, _end(values)))
        return ZipAxes(together).axes()

    def call(self) -> A.Call:
        name = self.expect("NAME")
        if self.tokens[self.i][0] != "(":
            raise _NotClean
        self.i += 1
        return self.call_rest(name)

    def type_expr(self) -> A.TypeExpr:
        name = self.expect("NAME")
        if self.tokens[self.i][0] != "[":
            return A.TypeExpr(_intern(name[1]), None, self.pos(name))
        self.i += 1
        arg = self.type_expr()
        close = self.expect("]")
        return A.TypeExpr(_intern(name[1]), arg, self.span(name, (close[4], close[5])))

    # --- blocks ---------------------------------------------------------

    def block(self) -> tuple[list[A.Field], tuple]:
        """`{ field* }`: the fields and the closing token."""
        self.expect("{")
        tokens = self.tokens
        fields = []
        keywords = _NOTHING
        while True:
            t = tokens[self.i]
            k = t[0]
            if k == "NAME":
                if t[1] in keywords:
                    raise _NotClean
                fields.append(self.field(t))
                keywords = _AFTER_CALL if tokens[self.i - 1][0] == ")" else _AFTER_VALUE
            elif k == ";":
                self.i += 1
                keywords = _NOTHING
            elif k == "}":
                self.i += 1
                return fields, t
            else:
                raise _NotClean

    def body(self) -> tuple[A.Body, tuple]:
        """`{ (field | port)* }`: a stage's, service's or template's."""
        self.expect("{")
        tokens = self.tokens
        fields = []
        ports = []
        keywords = _NOTHING
        while True:
            t = tokens[self.i]
            k = t[0]
            if k == "NAME":
                word = t[1]
                if word == "in" or word == "out":
                    self.i += 1
                    name = self.expect("NAME")
                    self.expect("=")
                    value = self.value()
                    ports.append(A.Port(_intern(word), _intern(name[1]), self.pos(name), value,
                                        self.span(t, _end(value))))
                elif word in keywords:
                    raise _NotClean
                else:
                    fields.append(self.field(t))
                keywords = _AFTER_CALL if tokens[self.i - 1][0] == ")" else _AFTER_VALUE
            elif k == ";":
                self.i += 1
                keywords = _NOTHING
            elif k == "}":
                self.i += 1
                return A.Body(fields, ports), t
            else:
                raise _NotClean

    def field(self, name: tuple) -> A.Field:
        self.i += 1
        if self.tokens[self.i][0] != "=":
            raise _NotClean
        self.i += 1
        return A.Field(_intern(name[1]), self.pos(name), self.value())

    # --- values ---------------------------------------------------------

    def value(self):
        tokens = self.tokens
        t = tokens[self.i]
        k = t[0]
        self.i += 1
        if k == "NAME":
            word = t[1]
            if word == "true" or word == "false":
                return A.Bool(word == "true", self.pos(t))
            after = tokens[self.i][0]
            if after == "(":
                self.i += 1
                return self.call_rest(t)
            if after == "[":
                self.i += 1
                return self.select_rest(t)
            names = [_intern(word)]
            last = t
            while after == ".":
                self.i += 1
                last = self.expect("NAME")
                names.append(_intern(last[1]))
                after = tokens[self.i][0]
            return A.Ref(names, self.span(t, (last[4], last[5])))
        if k == "STRING" or k == "LONG_STRING":
            return RawString(*t)
        if k == "QUANTITY":
            text = t[1]
            m = QUANTITY_SPLIT.match(text)
            return A.Quantity(float(m.group(1)), _intern(m.group(2)), text, self.pos(t))
        if k == "NUMBER":
            text = t[1]
            count = A.Num(parse_number(text), text, self.pos(t))
            x = tokens[self.i]
            if x[0] != "NAME" or x[1] != "x":
                return count
            self.i += 1
            type_ = self.expect("NAME")
            return A.GpuSpec(count, _intern(type_[1]), self.pos(type_), self.span(t, (type_[4], type_[5])))
        if k == "[":
            items = []
            if tokens[self.i][0] != "]":
                while True:
                    items.append(self.value())
                    if tokens[self.i][0] != ",":
                        break
                    self.i += 1
                    if tokens[self.i][0] == "]":
                        break
            close = self.expect("]")
            return A.ListV(items, self.span(t, (close[4], close[5])))
        if k == "{":
            entries = []
            if tokens[self.i][0] != "}":
                while True:
                    entries.append(self.map_item())
                    if tokens[self.i][0] != ",":
                        break
                    self.i += 1
                    if tokens[self.i][0] == "}":
                        break
            close = self.expect("}")
            return A.MapV(entries, self.span(t, (close[4], close[5])))
        raise _NotClean

    def map_item(self) -> A.MapItem:
        tokens = self.tokens
        t = tokens[self.i]
        k = t[0]
        self.i += 1
        if k == "STRING" or k == "LONG_STRING":
            key = RawString(*t)
            key_pos = self.pos(t)
        elif k == "NAME":
            names = [t[1]]
            last = t
            while tokens[self.i][0] == ".":
                self.i += 1
                last = self.expect("NAME")
                names.append(last[1])
            key = ".".join(names)
            key_pos = self.span(t, (last[4], last[5]))
        else:
            raise _NotClean
        self.expect(":")
        return A.MapItem(key, key_pos, self.value())

    def call_rest(self, name: tuple) -> A.Call:
        """After `name (`."""
        tokens = self.tokens
        args = []
        kwargs = []
        if tokens[self.i][0] != ")":
            while True:
                t = tokens[self.i]
                if t[0] == "NAME" and tokens[self.i + 1][0] == "=" and t[1] != "true" and t[1] != "false":
                    self.i += 2
                    kwargs.append(A.KwArg(_intern(t[1]), self.pos(t), self.value()))
                else:
                    args.append(self.value())
                if tokens[self.i][0] != ",":
                    break
                self.i += 1
                if tokens[self.i][0] == ")":
                    break
        close = self.expect(")")
        return A.Call(_intern(name[1]), self.pos(name), args, kwargs, self.span(name, (close[4], close[5])))

    def select_rest(self, name: tuple) -> A.Select:
        """After `name [`."""
        tokens = self.tokens
        keys = []
        while True:
            key = self.expect("NAME")
            self.expect("=")
            keys.append(A.KwArg(_intern(key[1]), self.pos(key), self.value()))
            if tokens[self.i][0] != ",":
                break
            self.i += 1
            if tokens[self.i][0] == "]":
                break
        last = self.expect("]")
        names = []
        while tokens[self.i][0] == ".":
            self.i += 1
            last = self.expect("NAME")
            names.append(_intern(last[1]))
        return A.Select(_intern(name[1]), self.pos(name), keys, names, self.span(name, (last[4], last[5])))


_DECLARATIONS = {
    "import": _Parser.import_decl, "experiment": _Parser.experiment_decl, "param": _Parser.param_decl,
    "secret": _Parser.secret_decl, "dataset": _Parser.dataset_decl, "site": _Parser.site_decl,
    "link": _Parser.link_decl, "template": _Parser.template_decl, "stage": _Parser.stage_decl,
    "service": _Parser.service_decl,
}
