"""The specification's parser: lark's LALR parser for grammar/mlx.lark,
with an inline transformer (no parse tree is built), and syntax errors as
diagnostics. syntax.py runs it on a file only when the fast parser
(descent.py) does not vouch for the file, so lark is imported only then:
every syntax diagnostic comes from here, its `expected ...` lists from the
LALR tables.

Recovery: after a syntax error the broken declaration is blanked out up to
the next line that starts a declaration, and parsing resumes, so one run
reports every broken declaration of a file, not just the first."""

from __future__ import annotations

import re
import sys
import threading
from functools import lru_cache

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..diagnostics import Diagnostics, help_
from ..resources import grammar_path
from . import ast as A
from .lexer import LimitExceeded, MlxLexer
from .parsed import DECL_KEYWORDS, QUANTITY_SPLIT, RawString, ZipAxes, parse_number
from .parser_cache import cached_lark

_RESYNC = re.compile(r"^(?:" + "|".join(DECL_KEYWORDS) + r")\b", re.MULTILINE)
_MAX_SYNTAX_ERRORS = 20

# What to call terminals in "expected ..." messages.
_TERMINAL_NAMES = {
    "NAME": "a name", "STRING": "a string", "LONG_STRING": "a string",
    "NUMBER": "a number", "QUANTITY": "a quantity", "LBRACE": "`{`",
    "RBRACE": "`}`", "LSQB": "`[`", "RSQB": "`]`", "LPAR": "`(`", "RPAR": "`)`",
    "EQUAL": "`=`", "COLON": "`:`", "SEMICOLON": "`;`", "COMMA": "`,`", "DOT": "`.`",
    "LINK_OP": "`<->` or `->`", "IN": "`in`", "OUT": "`out`", "$END": "end of file",
    "PARTITION": "`partition`", "POOL": "`pool`",
}


@lru_cache(maxsize=1)
def _grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _lark() -> Lark:
    """One parser for both start symbols; its tables come from the user's
    cache when they can (parser_cache.py)."""
    options = dict(parser="lalr", lexer=MlxLexer, start=["start", "value"], keep_all_tokens=True,
                   maybe_placeholders=False)
    return cached_lark(_grammar_text(), options, _Builder)


_PARSING = threading.Lock()  # the builder's `file` belongs to one parse at a time


def _parse(text: str, path: str, start: str):
    parser = _lark()
    with _PARSING:
        parser.options.transformer.file = path
        return parser.parse(text, start=start)


class _Builder(Transformer):
    """Builds AST nodes bottom-up while the LALR parser reduces.

    One instance is shared by every parse (lark binds its callbacks to it), so
    `file`, the name positions carry, is set before each parse (`_parse`)."""

    file = ""

    # --- helpers ---
    def _tok(self, tok: Token) -> A.Pos:
        return A.Pos(self.file, tok.line, tok.column, tok.end_line, tok.end_column)

    @staticmethod
    def _at(node):
        """What has the node's line and columns: a token, the closing token of
        a (fields, token) pair from block/body, or a node's position."""
        if isinstance(node, (Token, RawString)):
            return node
        if isinstance(node, tuple):
            return node[1]
        return node.pos

    def _pos(self, first, last=None) -> A.Pos:
        a = self._at(first)
        b = self._at(last) if last is not None else a
        return A.Pos(self.file, a.line, a.column, b.end_line, b.end_column)

    @staticmethod
    def _meaningful(children):
        return [c for c in children if not (isinstance(c, Token) and c.type in _PUNCT)]

    # --- declarations ---
    def start(self, children):
        return [c for c in children if not isinstance(c, Token)]

    def import_decl(self, c):
        return A.Import(c[1], self._pos(c[0], c[1]))

    def experiment_decl(self, c):
        block = c[2]
        return A.Experiment(_name(c[1]), self._tok(c[1]), block[0], self._pos(c[0], block[1]))

    def param_decl(self, c):
        return A.Param(_name(c[1]), self._tok(c[1]), c[3], c[5], self._pos(c[0], c[5]))

    def secret_decl(self, c):
        return A.Secret(_name(c[1]), self._tok(c[1]), c[2][0], self._pos(c[0], c[2][1]))

    def dataset_decl(self, c):
        return A.Dataset(_name(c[1]), self._tok(c[1]), c[2][0], self._pos(c[0], c[2][1]))

    def site_decl(self, c):
        fields = [x for x in c[5:-1] if isinstance(x, A.Field)]
        pools = [x for x in c[5:-1] if isinstance(x, A.PoolDecl)]
        return A.Site(_name(c[1]), self._tok(c[1]), _name(c[3]), self._tok(c[3]), fields, pools,
                      self._pos(c[0], c[-1]))

    def pool_decl(self, c):
        return A.PoolDecl(_name(c[0]), self._tok(c[0]), _name(c[1]), self._tok(c[1]), c[2][0],
                          self._pos(c[0], c[2][1]))

    def link_decl(self, c):
        return A.Link(_name(c[1]), self._tok(c[1]), _name(c[2]) == "<->", _name(c[3]), self._tok(c[3]),
                      c[4][0], self._pos(c[0], c[4][1]))

    def template_decl(self, c):
        params = [x for x in c if isinstance(x, A.TemplateParam)]
        kind = c[-2]
        body = c[-1]
        return A.Template(_name(c[1]), self._tok(c[1]), params, _name(kind), self._tok(kind), body[0],
                          self._pos(c[0], body[1]))

    def tparam(self, c):
        default = c[4] if len(c) > 3 else None
        return A.TemplateParam(_name(c[0]), self._tok(c[0]), c[2], default)

    def stage_decl(self, c):
        call = next((x for x in c if isinstance(x, A.Call)), None)
        sweep = next((x for x in c if isinstance(x, _Sweep)), None)
        body = c[-1]
        return A.Stage(_name(c[1]), self._tok(c[1]), call, sweep.axes if sweep else [], body[0],
                       self._pos(c[0], body[1]))

    def service_decl(self, c):
        call = next((x for x in c if isinstance(x, A.Call)), None)
        body = c[-1]
        return A.Service(_name(c[1]), self._tok(c[1]), call, body[0], self._pos(c[0], body[1]))

    def sweep(self, c):
        axes = []
        for x in c:
            if isinstance(x, A.SweepAxis):
                axes.append(x)
            elif isinstance(x, ZipAxes):
                axes.extend(x.axes())
        return _Sweep(axes)

    def sweep_axis(self, c):
        return A.SweepAxis(_name(c[0]), self._tok(c[0]), c[2])

    def zip_axis(self, c):
        names = [t for t in c[:-2] if isinstance(t, Token) and t.type == "NAME"]
        values = c[-1]
        together = A.Zip([_name(t) for t in names], [self._tok(t) for t in names], values,
                         self._pos(c[0], values))
        return ZipAxes(together)

    def block(self, c):
        return ([x for x in c if isinstance(x, A.Field)], c[-1])

    def body(self, c):
        fields = [x for x in c if isinstance(x, A.Field)]
        ports = [x for x in c if isinstance(x, A.Port)]
        return (A.Body(fields, ports), c[-1])

    def field(self, c):
        return A.Field(_name(c[0]), self._tok(c[0]), c[2])

    def port_decl(self, c):
        return A.Port(_name(c[0]), _name(c[1]), self._tok(c[1]), c[3], self._pos(c[0], c[3]))

    def type_expr(self, c):
        arg = c[2] if len(c) > 1 else None
        return A.TypeExpr(_name(c[0]), arg, self._pos(c[0], c[-1]))

    # --- values ---
    def string(self, c):
        t = c[0]  # decoded later (syntax._Finisher), as descent.py leaves it
        return RawString(t.type, t.value, self._tok(t))

    def number(self, c):
        text = str(c[0])
        return A.Num.of(parse_number(text), text, self._tok(c[0]))

    def quantity(self, c):
        text = str(c[0])
        m = QUANTITY_SPLIT.match(text)
        return A.Quantity.of(m.group(1), sys.intern(m.group(2)), text, self._tok(c[0]))

    def gpus(self, c):
        count = A.Num.of(parse_number(str(c[0])), str(c[0]), self._tok(c[0]))
        return A.GpuSpec(count, _name(c[2]), self._tok(c[2]), self._pos(c[0], c[2]))

    def true(self, c):
        return A.Bool(True, self._tok(c[0]))

    def false(self, c):
        return A.Bool(False, self._tok(c[0]))

    def ref(self, c):
        names = tuple([_name(t) for t in c if t.type == "NAME"])
        return A.Ref(names, self._pos(c[0], c[-1]))

    def select(self, c):
        keys = [x for x in c if isinstance(x, A.KwArg)]
        closing = max(i for i, x in enumerate(c) if isinstance(x, Token) and x.type == "RSQB")
        names = [_name(t) for t in c[closing + 1:] if t.type == "NAME"]
        return A.Select(_name(c[0]), self._tok(c[0]), keys, names, self._pos(c[0], c[-1]))

    def select_key(self, c):
        return A.KwArg(_name(c[0]), self._tok(c[0]), c[2])

    def list(self, c):
        items = [x for x in c if not isinstance(x, Token)]
        return A.ListV(items, self._pos(c[0], c[-1]))

    def map(self, c):
        items = [x for x in c if isinstance(x, A.MapItem)]
        return A.MapV(items, self._pos(c[0], c[-1]))

    def map_item(self, c):
        key = c[0]
        if isinstance(key, A.Ref):
            return A.MapItem(key.dotted, key.pos, c[2])
        return A.MapItem(key, self._tok(key), c[2])  # a RawString, decoded later

    def call(self, c):
        args = []
        kwargs = []
        for x in c[2:-1]:
            if isinstance(x, A.KwArg):
                kwargs.append(x)
            elif not (isinstance(x, Token) and x.type == "COMMA"):
                args.append(x)
        return A.Call(_name(c[0]), args, tuple(kwargs), self._pos(c[0], c[-1]))

    def arg(self, c):
        return c[0]

    def kwarg(self, c):
        return A.KwArg(_name(c[0]), self._tok(c[0]), c[2])


def _name(tok: Token) -> str:
    """A name as a plain string, one object per distinct name: a large file
    repeats the same few (`in`, `size`, `file`, port and field names)
    hundreds of thousands of times."""
    return sys.intern(str(tok))


class _Sweep:
    __slots__ = ("axes",)

    def __init__(self, axes):
        self.axes = axes


_PUNCT = {"SEMICOLON", "COMMA", "LBRACE", "RBRACE", "LSQB", "RSQB", "LPAR", "RPAR", "EQUAL", "COLON"}


def parse_module(text: str, path: str, diags: Diagnostics) -> list | None:
    """The declarations of one file (strings not yet decoded), or None when
    it has syntax errors: all of them are reported (the checker then skips
    the file rather than pile up follow-on errors about declarations it
    could not read)."""
    current = text
    failed = False
    for _ in range(_MAX_SYNTAX_ERRORS):
        try:
            decls = _parse(current, path, "start")
            break
        except UnexpectedInput as err:
            failed = True
            _report_syntax_error(err, current, path, diags)
            current = _blank_broken_decl(current, err)
            if current is None:
                return None
    else:
        return None
    return None if failed else decls


def parse_value(text: str, path: str, diags: Diagnostics):
    """A single value (strings not yet decoded), or None after reporting
    its syntax error."""
    try:
        return _parse(text, path, "value")
    except UnexpectedInput as err:
        _report_syntax_error(err, text, path, diags)
        return None


def _report_syntax_error(err: UnexpectedInput, text: str, path: str, diags: Diagnostics) -> None:
    line = getattr(err, "line", 1) or 1
    column = getattr(err, "column", 1) or 1
    if isinstance(err, LimitExceeded):
        diags.error(err.code, err.message, A.Pos(path, line, column, line, column + err.width).span(),
                    help_(err.hint))
        return
    if isinstance(err, UnexpectedCharacters):
        ch = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        pos = A.Pos(path, line, column, line, column + 1).span()
        if ch == '"':
            diags.error("E0103", "unterminated string", pos,
                        help_('close the string with `"` on the same line, or use """...""" '
                              "for text over several lines"))
        elif text.startswith('"""', err.pos_in_stream):
            diags.error("E0103", "unterminated multi-line string", pos,
                        help_('close it with `"""`'))
        else:
            shown = repr(ch)[1:-1] if ch else "end of file"
            diags.error("E0102", f"unexpected character `{shown}`", pos,
                        help_("names are letters, digits and `_`; comments start with `//`"))
        return
    if isinstance(err, UnexpectedToken) and err.token.type != "$END":
        tok = err.token
        pos = A.Pos(path, tok.line, tok.column, tok.end_line or tok.line,
                    tok.end_column or tok.column + 1).span()
        expected = _expected(err.expected)
        shown = str(tok).split("\n")[0][:40]
        diags.error("E0101", f"unexpected `{shown}`", pos, *_expected_notes(expected, tok))
        return
    # end of input
    last_line = text.count("\n") + 1
    last_col = len(text) - (text.rfind("\n") + 1) + 1
    pos = A.Pos(path, last_line, last_col, last_line, last_col + 1).span()
    expected = _expected(getattr(err, "expected", None) or [])
    diags.error("E0106", "unexpected end of file", pos, *_expected_notes(expected, None))


def _expected(terminals) -> list[str]:
    names = set()
    for t in terminals:
        if t in _TERMINAL_NAMES:
            names.add(_TERMINAL_NAMES[t])
        elif t.isupper() and t.lower() in DECL_KEYWORDS + ("for", "true", "false", "x"):
            names.add(f"`{t.lower()}`")
        else:
            names.add(f"`{t.lower()}`" if t.isalpha() else t)
    return sorted(names)


def _expected_notes(expected: list[str], tok: Token | None):
    notes = []
    if tok is not None and tok.type == "NAME" and "`=`" in expected:
        notes.append(help_("a field is written `name = value`"))
    if expected:
        shown = ", ".join(expected[:8]) + (", ..." if len(expected) > 8 else "")
        notes.append(help_(f"expected {shown}"))
    return notes


def _blank_broken_decl(text: str, err: UnexpectedInput) -> str | None:
    """Replace the declaration holding the error with blanks (newlines kept,
    so positions stay right); None when nothing is left to try."""
    offset = getattr(err, "pos_in_stream", None)
    if offset is None or offset < 0:
        token = getattr(err, "token", None)
        offset = getattr(token, "start_pos", None)
    if offset is None:
        return None
    offset = min(offset, len(text))
    starts = [m.start() for m in _RESYNC.finditer(text)]
    begin = max((s for s in starts if s <= offset), default=0)
    end = min((s for s in starts if s > offset), default=len(text))
    if end <= begin:
        return None
    blanked = re.sub(r"[^\n]", " ", text[begin:end])
    new = text[:begin] + blanked + text[end:]
    if new == text or not new.strip():
        return None
    return new
