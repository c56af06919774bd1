"""Rendering .mlx source text: strings, quantities, values and declaration
blocks, formatted like the examples (2-space indentation, one field per line,
a blank line between declarations)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..frontend.syntax import CONTROL_CHARACTERS
from .names import identifier

INDENT = "  "

# A short command stays on the `run = "..."` line; a longer one becomes a
# """...""" block with one shell command per line.
_MAX_INLINE_STRING = 88


@dataclass(frozen=True)
class Interp:
    """`${path}` in an .mlx string: a parameter, `in.x` or `out.x`."""

    path: str


Piece = str | Interp


def _escape_dollars(text: str) -> str:
    # `${...}` interpolates in every .mlx string, so a literal `$` is `$$`.
    return text.replace("$", "$$")


def _short_string(pieces: list[Piece]) -> str:
    out = []
    for piece in pieces:
        if isinstance(piece, Interp):
            out.append("${" + piece.path + "}")
            continue
        text = _escape_dollars(piece).replace("\\", "\\\\").replace('"', '\\"')
        out.append(text.replace("\n", "\\n").replace("\t", "\\t"))
    return '"' + "".join(out) + '"'


def _long_string(pieces: list[Piece]) -> str:
    # No escapes inside """...""": backslashes and quotes are literal.
    body = "".join(
        "${" + p.path + "}" if isinstance(p, Interp) else _escape_dollars(p) for p in pieces
    )
    return '"""\n' + body + '\n"""'


def string(value: str | list[Piece], *, block: bool = False) -> str:
    """An .mlx string literal with `value` as its text, exactly. `block` asks
    for a triple-quoted block framed by line breaks, for a multi-line `run`
    (the front end trims the framing and common indentation of a command);
    text holding three quotes of its own, which such a block cannot hold,
    stays an escaped string."""
    pieces = [value] if isinstance(value, str) else value
    literal_text = "".join(p for p in pieces if isinstance(p, str))
    if CONTROL_CHARACTERS.search(literal_text):
        # No .mlx string holds one; the importers reject them on reading (E0904).
        raise ValueError("a control character has no .mlx literal")
    if block and '"""' not in literal_text:
        return _long_string(pieces)
    return _short_string(pieces)


def is_short(pieces: list[Piece]) -> bool:
    """Whether the string fits on the line of its field."""
    if any(isinstance(p, str) and "\n" in p for p in pieces):
        return False
    return len(_short_string(pieces)) <= _MAX_INLINE_STRING


_SIZE_UNITS = [("TiB", 1024**4), ("TB", 10**12), ("GiB", 1024**3), ("GB", 10**9),
               ("MiB", 1024**2), ("MB", 10**6), ("KiB", 1024), ("KB", 10**3)]


def size(n_bytes: int) -> str:
    """An exact size: the largest unit that divides it, else plain bytes."""
    for unit, factor in _SIZE_UNITS:
        if n_bytes >= factor and n_bytes % factor == 0:
            return f"{n_bytes // factor}{unit}"
    return f"{n_bytes}B"


def memory(n_bytes: int) -> str:
    """A memory request: rounded up to a whole MiB (asking for a little more
    than measured is safe; exact byte counts only clutter the file)."""
    mib = max(1, math.ceil(n_bytes / 1024**2))
    return size(mib * 1024**2)


def duration(seconds: float) -> str:
    """An exact duration in the largest unit that divides it."""
    if seconds == int(seconds):
        whole = int(seconds)
        for unit, factor in (("d", 86400), ("h", 3600), ("m", 60)):
            if whole >= factor and whole % factor == 0:
                return f"{whole // factor}{unit}"
        return f"{whole}s"
    return f"{seconds!r}s"


def number(value: int | float) -> str:
    return repr(value)


def value(v: object) -> str:
    """A parameter value: bool, int, float, str or a list of them."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return number(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, list):
        return "[" + ", ".join(value(item) for item in v) + "]"
    raise TypeError(f"no .mlx literal for {type(v).__name__}")


def map_key(key: str) -> str:
    """A map key: bare when it is a plain identifier, quoted otherwise."""
    return key if identifier(key, "_") == key else string(key)


def printable(text: str) -> str:
    """Text from outside the document (a file name) with each control
    character replaced by U+FFFD, so that it can be shown in the output."""
    return CONTROL_CHARACTERS.sub("\ufffd", text)


def comment(text: str) -> str:
    """A one-line `//` comment; line breaks in `text` would end it early, and
    control characters have no place in a generated file."""
    return "// " + " ".join(printable(text).split())


@dataclass
class Block:
    """A declaration: a header line and the lines of its body."""

    header: str
    lines: list[str]

    def render(self) -> str:
        if not self.lines:
            return self.header + " {}"
        body = []
        for line in self.lines:
            # Continuation lines of a """...""" string are copied verbatim:
            # indenting them would change the command.
            first, *rest = line.split("\n")
            body.append(INDENT + first)
            body.extend(rest)
        return self.header + " {\n" + "\n".join(body) + "\n}"


def document(parts: list[str]) -> str:
    """Top-level declarations and comment groups, a blank line between them."""
    return "\n\n".join(part.rstrip("\n") for part in parts if part) + "\n"
