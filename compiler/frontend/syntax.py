"""Text to syntax tree: the fast parser (descent.py) for a file it vouches
for, else lark's (lalr.py), which reports every syntax error; then string
decoding (escapes, `${...}`), which both share.

The two parsers build the same tree (tests/frontend/test_descent.py), so
which one ran is invisible but for time: lark is imported only for a file
with a syntax error (or one the fast parser is unsure of)."""

from __future__ import annotations

import re

from ..diagnostics import Diagnostics, help_
from . import ast as A
from . import descent
from .parsed import DECL_KEYWORDS, RawString, ZipAxes

__all__ = ["CONTROL_CHARACTERS", "DECL_KEYWORDS", "decode_string", "parse_module", "parse_value"]


# --- post-processing: strings ------------------------------------------------


class _Finisher:
    """Walks the fresh tree once and decodes its string tokens (escapes,
    interpolation); the builder cannot, since a declaration it built may
    still be thrown away by error recovery, with its string diagnostics."""

    def __init__(self, file: str, diags: Diagnostics):
        self.file = file
        self.diags = diags

    def value(self, v):
        # exact types, commonest first: no subclass of these exists
        kind = type(v)
        if kind is RawString:
            return decode_string(v, self.file, self.diags)
        if kind is A.Call:
            value = self.value
            args = v.args
            v.args = (value(args[0]),) if len(args) == 1 else tuple([value(x) for x in args])
            for kw in v.kwargs:
                kw.value = value(kw.value)
        elif kind is A.ListV:
            value = self.value
            v.items = [value(x) for x in v.items]
        elif kind is A.MapV:
            for item in v.items:
                if type(item.key) is RawString:
                    decoded = decode_string(item.key, self.file, self.diags)
                    item.key = decoded.literal() or "".join(
                        p if isinstance(p, str) else "${" + ".".join(p.path) + "}"
                        for p in decoded.pieces
                    )
                item.value = self.value(item.value)
        elif kind is A.Select:
            for kw in v.keys:
                kw.value = self.value(kw.value)
        return v

    def fields(self, fields):
        for f in fields:
            f.value = self.value(f.value)

    def body(self, body: A.Body):
        self.fields(body.fields)
        value, ref = self.value, A.Ref
        for p in body.ports:
            if type(p.value) is not ref:  # a fan-in's thousands of `stage.output`: nothing to decode
                p.value = value(p.value)

    def decl(self, d):
        if isinstance(d, A.Import):
            d.path = self.value(d.path)
        elif isinstance(d, (A.Experiment, A.Secret, A.Dataset, A.Link)):
            self.fields(d.fields)
        elif isinstance(d, A.Param):
            d.value = self.value(d.value)
        elif isinstance(d, A.Site):
            self.fields(d.fields)
            for pool in d.pools:
                self.fields(pool.fields)
        elif isinstance(d, A.Template):
            for p in d.params:
                if p.default is not None:
                    p.default = self.value(p.default)
            self.body(d.body)
        elif isinstance(d, (A.Stage, A.Service)):
            if d.template is not None:
                d.template = self.value(d.template)
            if isinstance(d, A.Stage):
                finished: set[int] = set()
                for axis in d.sweep:
                    if axis.zip is None:
                        axis.values = self.value(axis.values)
                        continue
                    z = axis.zip
                    if id(z) not in finished:  # the zip once, for all its variables
                        finished.add(id(z))
                        z.values = self.value(z.values)
                    axis.values = ZipAxes(z).value_of(axis.name)
            self.body(d.body)


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
# Control characters other than tab and line feed (NUL, CR, ESC, DEL, C1):
# they have no business in a command, path or name, and break the files
# they would reach (a NUL ends a C string; a CR rewrites a terminal line).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INTERP_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def decode_string(tok: RawString, file: str, diags: Diagnostics) -> A.Str:
    """Decode a STRING or LONG_STRING token into text pieces and `${...}`
    interpolations. `$$` is a literal `$`; a `$` not followed by `{` or `$`
    is kept as it is, so shell text such as `$HOME` reads naturally."""
    raw = tok.value
    long = tok.type == "LONG_STRING"
    quote = 3 if long else 1
    body = raw[quote:-quote]
    pieces: list = []
    text: list[str] = []
    i = 0
    n = len(body)

    def here(offset_line, offset_col, length=1) -> A.Pos:
        return A.Pos(file, offset_line, offset_col, offset_line, offset_col + length)

    control = CONTROL_CHARACTERS.search(body)
    if control is not None:
        line, col = tok.line, tok.column + quote  # position of body[0]
        before = body[: control.start()]
        at_line = line + before.count("\n")
        at_col = (col if "\n" not in before else 1) + len(before) - (before.rfind("\n") + 1)
        diags.error("E0110", f"control character U+{ord(control.group()):04X} in a string",
                    here(at_line, at_col).span(),
                    help_("strings hold printable text, tabs and line breaks; let the command "
                          "make any other character (with printf, say)"))
    if "$" not in body and (long or "\\" not in body):  # most strings: the text as written
        return A.Str((body,) if body else (), tok.pos, long)
    line, col = tok.line, tok.column + quote  # position of body[0]
    while i < n:
        ch = body[i]
        if ch == "\\" and not long and i + 1 < n:
            esc = body[i + 1]
            if esc in _ESCAPES:
                text.append(_ESCAPES[esc])
            else:
                diags.error(
                    "E0105", f"unknown escape `\\{esc}` in a string", here(line, col, 2).span(),
                    help_("valid escapes: \\n \\t \\\" \\\\; write \\\\ for a backslash"),
                )
            i += 2
            col += 2
            continue
        if ch == "$" and i + 1 < n and body[i + 1] == "$":
            text.append("$")
            i += 2
            col += 2
            continue
        if ch == "$" and i + 1 < n and body[i + 1] == "{":
            close = body.find("}", i + 2)
            newline = body.find("\n", i + 2, close) if close >= 0 else -1  # bounded: linear
            if close < 0 or (0 <= newline < close):
                diags.error(
                    "E0501", "unterminated `${` in a string", here(line, col, 2).span(),
                    help_("close it with `}`, or write `$${` for a literal `${`"),
                )
                text.append(body[i:])
                break
            inner = body[i + 2 : close]
            width = close - i + 1
            if not _INTERP_PATH.fullmatch(inner.strip()):
                diags.error(
                    "E0502", f"`${{{inner}}}` is not a name or a dotted reference",
                    here(line, col, width).span(),
                    help_("interpolate a name such as `${lr}` or `${in.data}`; "
                          "write `$${...}` for shell syntax"),
                )
            else:
                if text:
                    pieces.append("".join(text))
                    text = []
                pieces.append(A.Interp(inner.strip().split("."), here(line, col, width)))
            i = close + 1
            col += width
            continue
        text.append(ch)
        if ch == "\n":
            line += 1
            col = 1
        else:
            col += 1
        i += 1
    if text:
        pieces.append("".join(text))
    return A.Str(tuple(pieces), tok.pos, long)


# --- entry points -----------------------------------------------------------


def parse_module(text: str, path: str, diags: Diagnostics) -> A.Module | None:
    """Parse one file. Returns None when it has syntax errors (all of them are
    reported; the checker then skips the file rather than pile up follow-on
    errors about declarations it could not read)."""
    decls = descent.parse_module(text, path)
    if decls is None:  # a syntax error, a limit, or a case it leaves to lark
        from . import lalr

        decls = lalr.parse_module(text, path, diags)
        if decls is None:
            return None
    finisher = _Finisher(path, diags)
    for d in decls:
        finisher.decl(d)
    return A.Module(path, decls)


def parse_value(text: str, path: str, diags: Diagnostics):
    """Parse a single value (for `-p name=value` on the command line)."""
    tree = descent.parse_value(text, path)
    if tree is None:
        from . import lalr

        tree = lalr.parse_value(text, path, diags)
        if tree is None:
            return None
    return _Finisher(path, diags).value(tree)
