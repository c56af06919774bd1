"""Diagnostics: what every stage of the compiler reports to the user.

One shape for all of them, from the parser to placement:

    path:line:col: error[E0301]: unknown field `memroy` in stage `train`
       |
    12 |   memroy = 8GiB
       |   ^^^^^^
       = help: did you mean `memory`?

They are collected, never raised one at a time, so a run reports every problem
at once, in source order. Codes are stable (docs/errors.md lists them).
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from .ir import Span

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Note:
    message: str
    span: Span | None = None  # a related place ("first defined here")
    kind: Literal["note", "help"] = "note"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    severity: Severity = "error"
    notes: tuple[Note, ...] = ()

    def sort_key(self) -> tuple:
        if self.span is None:
            return ("", 0, 0, self.code)
        return (self.span.file, self.span.line, self.span.column, self.code)

    def to_json(self) -> dict:
        def span_json(span: Span | None) -> dict | None:
            return None if span is None else span.model_dump()

        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "span": span_json(self.span),
            "notes": [
                {"kind": n.kind, "message": n.message, "span": span_json(n.span)}
                for n in self.notes
            ],
        }


@dataclass
class Diagnostics:
    """A collector passed through a compiler pass."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, span: Span | None, *notes: Note) -> None:
        self.items.append(Diagnostic(code, message, span, "error", tuple(notes)))

    def warning(self, code: str, message: str, span: Span | None, *notes: Note) -> None:
        self.items.append(Diagnostic(code, message, span, "warning", tuple(notes)))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        # Deduplicate: the same problem reached twice (through two imports, say)
        # is reported once.
        seen: set[tuple] = set()
        unique = []
        for d in sorted(self.items, key=Diagnostic.sort_key):
            key = (d.code, d.message, d.sort_key())
            if key not in seen:
                seen.add(key)
                unique.append(d)
        return unique


def help_(message: str) -> Note:
    return Note(message, None, "help")


def note(message: str, span: Span | None = None) -> Note:
    return Note(message, span, "note")


def did_you_mean(name: str, candidates: Iterable[str]) -> Note | None:
    """A `help:` note naming the closest candidate, or None."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if close:
        return help_(f"did you mean `{close[0]}`?")
    return None


def choices(candidates: Iterable[str], what: str = "valid choices") -> Note:
    names = ", ".join(f"`{c}`" for c in sorted(set(candidates)))
    return help_(f"{what}: {names}" if names else f"there are no {what}")


class SourceCache:
    """File texts by path, for rendering the source line under a diagnostic.

    A text read from a file may be let go once parsed (`release`): the
    file is read again when a diagnostic shows one of its lines, as C
    compilers do, and only if it is still the file that was parsed (the
    same size and modification time); otherwise the line is not shown.
    A 20,000-task workflow's text is 56 MB, kept for errors it rarely has."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._lines: dict[str, list[str]] = {}  # split when a diagnostic first shows a line
        # path -> the size and modification time of the file its text was
        # read from, and what turns the file's bytes into that text
        self._read: dict[str, tuple[tuple[int, int], Callable[[bytes], str]]] = {}

    def add(self, path: str, text: str, read_from: tuple[int, int] | None = None,
            decode: Callable[[bytes], str] | None = None) -> None:
        """`read_from`: the size and modification time of the file the text
        was read from (`decode` of its bytes gives the text again), when
        it can be read again instead of kept."""
        self._texts[path] = text
        self._lines.pop(path, None)
        if read_from is None:
            self._read.pop(path, None)
        else:
            self._read[path] = read_from, decode

    def release(self) -> None:
        """Let go of the texts that can be read again from their files."""
        for path in self._read:
            self._texts.pop(path, None)

    def _reread(self, path: str) -> str | None:
        try:
            with open(path, "rb") as f:
                stat = os.fstat(f.fileno())
                stamp, decode = self._read[path]
                if (stat.st_size, stat.st_mtime_ns) != stamp:
                    return None  # changed since it was parsed: its lines may not be the ones meant
                data = f.read()
        except OSError:
            return None
        return decode(data)

    def line(self, path: str, number: int) -> str | None:
        lines = self._lines.get(path)
        if lines is None:
            text = self._texts.get(path)
            if text is None and path in self._read:
                text = self._reread(path)
            if text is not None:
                lines = self._lines[path] = text.split("\n")
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


_MAX_SHOWN = 200  # characters of a source line shown; a 10 MB line is cut
# Control characters shown as their one-column Unicode pictures (ESC as ␛):
# echoed raw, an escape sequence in a source line would drive the terminal.
_VISIBLE_CONTROLS = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421}


def _excerpt(text: str, column: int, width: int) -> tuple[str, int, int]:
    """Cut a long line around the culprit; returns (text, column, width)."""
    text = text.replace("\t", " ").translate(_VISIBLE_CONTROLS)
    if len(text) <= _MAX_SHOWN:
        return text, column, width
    start = max(0, column - 1 - _MAX_SHOWN // 2)
    piece = text[start : start + _MAX_SHOWN]
    prefix = "..." if start > 0 else ""
    suffix = "..." if start + _MAX_SHOWN < len(text) else ""
    new_column = column - start + len(prefix)
    return prefix + piece + suffix, new_column, min(width, _MAX_SHOWN)


def _shown(text: str) -> str:
    """A file name or message as printed: its control characters (from a
    file's name or a user's value) made visible, so none reaches the terminal."""
    return text.translate(_VISIBLE_CONTROLS)


def render_text(diags: Iterable[Diagnostic], sources: SourceCache) -> str:
    out: list[str] = []
    for d in diags:
        if d.span is not None:
            loc = f"{_shown(d.span.file)}:{d.span.line}:{d.span.column}: "
        else:
            loc = ""
        out.append(f"{loc}{d.severity}[{d.code}]: {_shown(d.message)}")
        if d.span is not None:
            out.extend(_snippet(d.span, sources))
        for n in d.notes:
            where = f" ({_shown(n.span.file)}:{n.span.line}:{n.span.column})" if n.span else ""
            out.append(f"   = {n.kind}: {_shown(n.message)}{where}")
        out.append("")
    return "\n".join(out)


def _snippet(span: Span, sources: SourceCache) -> list[str]:
    text = sources.line(span.file, span.line)
    if text is None:
        return []
    if span.end_line == span.line:
        width = max(1, span.end_column - span.column)
    else:
        width = max(1, len(text) - span.column + 1)
    shown, column, width = _excerpt(text, span.column, width)
    width = max(1, min(width, len(shown) - column + 1))
    gutter = str(span.line)
    pad = " " * len(gutter)
    return [
        f"{pad} |",
        f"{gutter} | {shown}".rstrip(),
        f"{pad} | {' ' * (column - 1)}{'^' * width}",
    ]


def render_json(diags: Iterable[Diagnostic]) -> str:
    items = [d.to_json() for d in diags]
    errors = sum(1 for d in items if d["severity"] == "error")
    warnings = len(items) - errors
    return json.dumps(
        {"diagnostics": items, "errors": errors, "warnings": warnings},
        indent=2,
        ensure_ascii=False,
    )


def summary(diags: list[Diagnostic]) -> str:
    errors = sum(1 for d in diags if d.severity == "error")
    warnings = len(diags) - errors
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts) if parts else "no problems"
