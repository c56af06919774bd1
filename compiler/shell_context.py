"""Where each `${...}` of a `run` command lands in the shell, and the one
route by which its value reaches the command.

A value is never pasted into shell text that the shell parses: quoting can
only be right for one context, and a user may write `${p}` in any of them.
Instead the command refers to an environment variable that the generated
script exports (in a line mlc writes, with `shlex.quote`) before it runs the
command:

    unquoted               "${MLC_VALUE_p}"
    "..." / unquoted <<EOF  ${MLC_VALUE_p}
    '...'                  '"${MLC_VALUE_p}"'      (closes and reopens the quote)
    $'...'                 '"${MLC_VALUE_p}"$'
    # comment              ${MLC_VALUE_p}          (never runs)

Two contexts take the value as text, because the shell does not expand there:
a quoted here-document body (`<<'PY'`), unless a resulting line would end the
document early (an error), and arithmetic (`$((...))`, `((...))`), which bash
evaluates as an expression, so only a whole number is accepted there.

The scanner is linear (one pass, no backtracking) and knows unquoted text,
'...', "...", $'...', `...`, $(...), $((...)), $[...], ((...)), ${...},
comments, here-documents (quoted or not, `<<-`, several on one line),
here-strings and line continuations. A command it cannot read, or that bash
could read in more than one way, is an error, never a guess.
Used by the front end (for positioned diagnostics) and by the back ends.
Pure: no imports from the rest of mlc."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from enum import Enum
from typing import Sequence, Union

_PLACEHOLDER = "\x00"  # marks a site in the scanned text; NUL cannot be in a command
_METACHARS = " \t\n;&|()<>"
_MAX_NESTING = 100  # $( `( ${ "... inside each other; deeper is refused, not recursed into
_PLAIN_DELIMITER = re.compile(r"[A-Za-z0-9_.-]+")
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_]")


class Where(Enum):
    UNQUOTED = "unquoted"
    DOUBLE = "double quotes"
    SINGLE = "single quotes"
    ANSI = "$'...' quotes"
    COMMENT = "a comment"
    HEREDOC = "an unquoted here-document"
    HEREDOC_LITERAL = "a quoted here-document"
    ARITH = "arithmetic"


class ShellSyntaxError(Exception):
    """The command's shell text cannot be read (unterminated quote, ...)."""


class SiteError(Exception):
    """One value cannot reach the command where it is written."""

    def __init__(self, index: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.index = index  # into the command's sites, in order
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Site:
    """An interpolation: `base` names its variable(s) (`VALUE_lr`, `IN_data`);
    `values` is one text for a value, one path per producer for a port."""

    base: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Rendered:
    text: str  # the command, referring to the variables
    exports: tuple[tuple[str, str], ...]  # (variable, value), in order of first use


Piece = Union[str, Site]


def render(pieces: Sequence[Piece]) -> Rendered:
    """The command with each site replaced by what its context needs.
    Raises ShellSyntaxError or SiteError."""
    sites = [p for p in pieces if isinstance(p, Site)]
    for text in (p for p in pieces if isinstance(p, str)):
        if _PLACEHOLDER in text:
            raise ShellSyntaxError("a command cannot contain a NUL character")
    for index, site in enumerate(sites):
        if any(_PLACEHOLDER in v for v in site.values):
            raise SiteError(index, "a value holding a NUL character cannot reach a command",
                            "the shell cannot pass NUL; remove it from the value")
    skeleton = "".join(_PLACEHOLDER if isinstance(p, Site) else p for p in pieces)
    contexts = _Scanner(skeleton).run()
    names = _variable_names(sites)
    out: list[str] = []
    length = 0  # of the text in `out`
    raw: list[tuple[int, int, int]] = []  # (start, end, site index) of text inserted as is
    exports: dict[str, str] = {}
    index = 0
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            length += len(piece)
            continue
        where, delimiter = contexts[index]
        variables = names[index]
        if where in (Where.HEREDOC_LITERAL, Where.ARITH):
            text = " ".join(piece.values)
            if where is Where.ARITH and not all(_WHOLE_NUMBER.fullmatch(v) for v in piece.values):
                raise SiteError(index, f"a value in arithmetic must be a whole number, not {_short(text)}",
                                "bash evaluates arithmetic text as an expression, which can run "
                                "commands; compute outside `$((...))` or pass a number")
            raw.append((length, length + len(text), index))
        else:
            for variable, value in zip(variables, piece.values, strict=True):
                exports.setdefault(variable, value)
            text = _reference(where, variables)
        out.append(text)
        length += len(text)
        index += 1
    text = "".join(out)
    if raw:
        _check_literal_bodies(text, raw, contexts)
    return Rendered(text, tuple(exports.items()))


def export_line(variable: str, value: str) -> str:
    """`export NAME=<quoted>`: a line mlc writes, where only it decides the context."""
    return f"export {variable}={shlex.quote(value)}"


def _reference(where: Where, variables: list[str]) -> str:
    plain = " ".join(f"${{{v}}}" for v in variables)
    if where is Where.UNQUOTED:
        return " ".join(f'"${{{v}}}"' for v in variables)
    if where is Where.SINGLE:
        return f"'\"{plain}\"'"
    if where is Where.ANSI:
        return f"'\"{plain}\"$'"
    return plain  # double quotes, an unquoted here-document, a comment


def _variable_names(sites: list[Site]) -> list[list[str]]:
    """`MLC_<base>` (one value) or `MLC_<base>_<n>` (several), made unique;
    a repeated site (same base, same values) shares its variables."""
    taken: set[str] = set()
    by_site: dict[Site, list[str]] = {}
    result = []
    for site in sites:
        if site not in by_site:
            stem = "MLC_" + _NOT_IN_NAME.sub("_", site.base)
            wanted = [stem] if len(site.values) == 1 else [f"{stem}_{n}" for n in range(1, len(site.values) + 1)]
            chosen = []
            for name in wanted:
                unique, n = name, 2
                while unique in taken:
                    unique, n = f"{name}_{n}", n + 1
                taken.add(unique)
                chosen.append(unique)
            by_site[site] = chosen
        result.append(by_site[site])
    return result


def _check_literal_bodies(text: str, raw: list[tuple[int, int, int]], contexts) -> None:
    """Scan the finished command again: no inserted text may be part of a
    line that ends a here-document."""
    scanner = _Scanner(text)
    scanner.run()  # the same structure: only the inserted texts differ
    for line_start, line_end in scanner.terminators:
        for start, end, index in raw:
            if start <= line_end and end >= line_start and contexts[index][0] is Where.HEREDOC_LITERAL:
                delimiter = contexts[index][1]
                raise SiteError(index, f"the value would end the here-document `{delimiter}` early",
                                f"a line of the document would read `{delimiter}`; choose another "
                                "delimiter or another value")


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


@dataclass
class _Heredoc:
    delimiter: str
    strip_tabs: bool
    literal: bool
    depth: int  # of the frame whose `<<` opened it


class _Scanner:
    """One pass over the command's text; records the context of each
    placeholder (in order) and the lines that end here-documents.

    Where bash's reading is unclear (a newline inside another construct while
    a here-document waits for its body, `'` inside `${...}` inside double
    quotes, a delimiter other than a plain word), the scanner refuses: a wrong
    guess about a quoted here-document would put a value where the shell
    parses it."""

    def __init__(self, text: str, depth: int = 0) -> None:
        self.s = text
        self.contexts: list[tuple[Where, str]] = []
        self.pending: list[_Heredoc] = []
        self.terminators: list[tuple[int, int]] = []
        self.depth = depth

    def run(self) -> list[tuple[Where, str]]:
        self.words(0, None, Where.UNQUOTED)
        if self.pending:
            raise ShellSyntaxError(f"the here-document `{self.pending[0].delimiter}` has no end line")
        return self.contexts

    def nested(self, scan, *args) -> int:
        """Run one nested scanner (a quote, a substitution, ...) under the depth limit."""
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise ShellSyntaxError(f"quotes and substitutions nest more than {_MAX_NESTING} deep")
        try:
            return scan(*args)
        finally:
            self.depth -= 1

    def part(self, start: int, end: int, scan) -> None:
        """Scan s[start:end] on its own (a backtick substitution, a here-document
        body), as bash does once it has found where that text ends."""
        inner = _Scanner(self.s[start:end], self.depth + 1)
        if inner.depth > _MAX_NESTING:
            raise ShellSyntaxError(f"quotes and substitutions nest more than {_MAX_NESTING} deep")
        scan(inner)
        if inner.pending:
            raise ShellSyntaxError(f"the here-document `{inner.pending[0].delimiter}` has no end line")
        self.contexts.extend(inner.contexts)
        self.terminators.extend((a + start, b + start) for a, b in inner.terminators)

    def site(self, where: Where, delimiter: str = "") -> None:
        self.contexts.append((where, delimiter))

    def no_pending(self, what: str) -> None:
        if self.pending:
            raise ShellSyntaxError(f"a here-document starts inside {what}; end it on the line of `<<`")

    def _escape(self, i: int) -> int:
        """After a backslash at i: the index after the escaped character."""
        if i + 1 >= len(self.s):
            return i + 1
        if self.s[i + 1] == _PLACEHOLDER:
            raise ShellSyntaxError("a `\\` right before `${...}` would change the quoting mlc adds; "
                                   "remove it or add a space")
        if self.s[i + 1] == "\n" and self.pending:
            self.no_pending("a continued line")
        return i + 2

    def _expansion(self, i: int, where: Where) -> int | None:
        """A command substitution, arithmetic or parameter expansion starting
        at i (they read the same in unquoted text and in double quotes): the
        index after it, or None when none starts there."""
        s = self.s
        if s[i] == "`":
            return self.backtick(i + 1)
        if s.startswith("$((", i):
            return self.nested(self.arith, i + 3)
        if s.startswith("$[", i):
            return self.nested(self.arith, i + 2, "]")
        if s.startswith("$(", i):
            return self.nested(self.words, i + 2, ")", Where.UNQUOTED)
        if s.startswith("${", i):
            return self.nested(self.brace, i + 2, where)
        return None

    def words(self, i: int, stop: str | None, where: Where) -> int:
        """Command text from i up to the closing `)` (or the end, `stop`
        None); returns the index after the closer."""
        s, parens, first = self.s, 0, i
        while i < len(s):
            c = s[i]
            at_word_start = i == first or s[i - 1] in _METACHARS
            if c == _PLACEHOLDER:
                self.site(where)
                i += 1
            elif c == "\\":
                i = self._escape(i)
            elif c == "'":
                i = self.nested(self.single, i + 1)
            elif s.startswith("$'", i):
                i = self.nested(self.ansi, i + 2)
            elif c == '"':
                i = self.nested(self.double, i + 1)
            elif (after := self._expansion(i, where)) is not None:
                i = after
            elif s.startswith("((", i) and at_word_start:
                i = self.nested(self.arith, i + 2)
            elif c == "#" and at_word_start:
                while i < len(s) and s[i] != "\n":
                    if s[i] == _PLACEHOLDER:
                        self.site(Where.COMMENT)
                    i += 1
            elif s.startswith("<<<", i):
                i += 3
            elif s.startswith("<<", i):
                i = self.heredoc_operator(i + 2)
            elif c == "\n":
                if any(doc.depth != self.depth for doc in self.pending):
                    self.no_pending("a substitution")
                i = self.bodies(i + 1)
            elif c == "(" and stop == ")":
                parens += 1
                i += 1
            elif c == ")" and stop == ")":
                if parens == 0:
                    return i + 1
                parens -= 1
                i += 1
            else:
                i += 1
        if stop is not None:
            raise ShellSyntaxError("`$(` is not closed")
        return i

    def backtick(self, i: int) -> int:
        """`...`: bash ends it at the first backtick not escaped, then reads
        what is inside as a command."""
        s, end = self.s, i
        while end < len(s) and s[end] != "`":
            end += 2 if s[end] == "\\" else 1
        if end >= len(s):
            raise ShellSyntaxError("a backtick is not closed")
        if self.pending and "\n" in s[i:end]:
            self.no_pending("backticks")
        self.part(i, end, lambda inner: inner.words(0, None, Where.UNQUOTED))
        return end + 1

    def single(self, i: int) -> int:
        end = self.s.find("'", i)
        if end < 0:
            raise ShellSyntaxError("a `'` quote is not closed")
        if self.pending and "\n" in self.s[i:end]:
            self.no_pending("a quoted string")
        for _ in range(self.s.count(_PLACEHOLDER, i, end)):
            self.site(Where.SINGLE)
        return end + 1

    def ansi(self, i: int) -> int:
        s = self.s
        while i < len(s):
            if s[i] == "\\":
                i = self._escape(i)
            elif s[i] == "'":
                return i + 1
            else:
                if s[i] == _PLACEHOLDER:
                    self.site(Where.ANSI)
                elif s[i] == "\n":
                    self.no_pending("a quoted string")
                i += 1
        raise ShellSyntaxError("a `$'` quote is not closed")

    def double(self, i: int, where: Where = Where.DOUBLE, stop: str | None = '"') -> int:
        """Double-quoted text (or an unquoted here-document body, `stop` None)."""
        s = self.s
        while i < len(s):
            c = s[i]
            if c == _PLACEHOLDER:
                self.site(where)
                i += 1
            elif c == "\\":
                i = self._escape(i)
            elif c == stop:
                return i + 1
            elif (after := self._expansion(i, where)) is not None:
                i = after
            else:
                if c == "\n":
                    self.no_pending("a quoted string")
                i += 1
        if stop is None:
            return i
        raise ShellSyntaxError('a `"` quote is not closed')

    def brace(self, i: int, where: Where) -> int:
        """`${...}` (the user's own parameter expansion); values inside take
        the surrounding context."""
        s = self.s
        while i < len(s):
            c = s[i]
            if c == _PLACEHOLDER:
                self.site(where)
                i += 1
            elif c == "\\":
                i = self._escape(i)
            elif c == "}":
                return i + 1
            elif c == '"':
                i = self.nested(self.double, i + 1)
            elif c == "'" and where is Where.UNQUOTED:
                i = self.nested(self.single, i + 1)
            elif c == "'" and where is Where.DOUBLE:
                raise ShellSyntaxError("bash reads `'` inside `${...}` inside double quotes in more than "
                                       "one way; move the quoted text out of the `${...}`")
            elif c == "`":
                i = self.backtick(i + 1)
            elif s.startswith("$((", i):
                i = self.nested(self.arith, i + 3)
            elif s.startswith("$(", i):
                i = self.nested(self.words, i + 2, ")", Where.UNQUOTED)
            elif s.startswith("${", i):
                i = self.nested(self.brace, i + 2, where)
            else:
                if c == "\n":
                    self.no_pending("`${...}`")
                i += 1
        raise ShellSyntaxError("a `${` is not closed")

    def arith(self, i: int, close: str = ")") -> int:
        """Up to the `))` that closes `$((` or `((`, or the `]` of `$[`."""
        s, depth = self.s, 0
        opening = "(" if close == ")" else "["
        while i < len(s):
            c = s[i]
            if c == _PLACEHOLDER:
                self.site(Where.ARITH)
            elif c == opening:
                depth += 1
            elif c == close:
                if depth == 0:
                    if close == "]":
                        return i + 1
                    if s.startswith("))", i):
                        return i + 2
                    raise ShellSyntaxError("`((` is closed by a single `)`")
                depth -= 1
            elif c == "\n":
                self.no_pending("arithmetic")
            i += 1
        raise ShellSyntaxError("`((` is not closed" if close == ")" else "`$[` is not closed")

    def heredoc_operator(self, i: int) -> int:
        """After `<<`: `-`, blanks, then the delimiter word."""
        s = self.s
        strip = s.startswith("-", i)
        i += strip
        while i < len(s) and s[i] in " \t":
            i += 1
        delimiter, quoted = [], False
        while i < len(s) and s[i] not in _METACHARS:
            c = s[i]
            if c in "'\"":
                end = s.find(c, i + 1)
                if end < 0:
                    raise ShellSyntaxError(f"a `{c}` quote is not closed")
                delimiter.append(s[i + 1:end])
                quoted, i = True, end + 1
            elif c == "\\" and i + 1 < len(s):
                delimiter.append(s[i + 1])
                quoted, i = True, i + 2
            else:
                delimiter.append(c)
                i += 1
        word = "".join(delimiter)
        if not _PLAIN_DELIMITER.fullmatch(word):
            raise ShellSyntaxError("a here-document delimiter must be a plain word "
                                   "(letters, digits, `_`, `.`, `-`), quoted or not")
        self.pending.append(_Heredoc(word, strip, quoted, self.depth))
        return i

    def bodies(self, i: int) -> int:
        """After a newline: the bodies of the here-documents opened on the
        line that ended; returns the index after the last one."""
        pending, self.pending = self.pending, []
        for doc in pending:
            start = i
            while True:
                if i >= len(self.s):
                    raise ShellSyntaxError(f"the here-document `{doc.delimiter}` has no end line")
                end = self.s.find("\n", i)
                end = len(self.s) if end < 0 else end
                line = self.s[i:end]
                if (line.lstrip("\t") if doc.strip_tabs else line) == doc.delimiter:
                    self.terminators.append((i, end))
                    self.body(start, i, doc)
                    i = min(end + 1, len(self.s))
                    break
                i = end + 1
        return i

    def body(self, start: int, end: int, doc: _Heredoc) -> None:
        if doc.literal:
            for _ in range(self.s.count(_PLACEHOLDER, start, end)):
                self.site(Where.HEREDOC_LITERAL, doc.delimiter)
            return
        self.part(start, end, lambda inner: inner.double(0, Where.HEREDOC, None))
