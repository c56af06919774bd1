"""What both parsers (descent.py, the fast one, and lalr.py, lark's) build
with, so the two make the same syntax tree: the string token the finisher
decodes later, numbers, quantities and zipped sweep variables. Imports no
parser library."""

from __future__ import annotations

import re

from . import ast as A

DECL_KEYWORDS = (
    "import", "experiment", "param", "secret", "dataset", "site", "link",
    "template", "stage", "service",
)


class RawString:
    """A STRING or LONG_STRING token as written (quotes included), kept in
    the tree until the finisher decodes it (syntax._Finisher): a declaration
    may still be thrown away by error recovery, with its string diagnostics."""

    __slots__ = ("type", "value", "pos")

    def __init__(self, type: str, value: str, pos: A.Pos):
        self.type = type
        self.value = value
        self.pos = pos

    @property
    def line(self) -> int:
        return self.pos.line

    @property
    def column(self) -> int:
        return self.pos.column

    @property
    def end_line(self) -> int:
        return self.pos.end_line

    @property
    def end_column(self) -> int:
        return self.pos.end_column

    def __eq__(self, other) -> bool:  # the differential tests compare trees before finishing too
        return isinstance(other, RawString) and all(
            getattr(self, s) == getattr(other, s) for s in RawString.__slots__)

    def __repr__(self) -> str:
        return f"RawString({self.value!r} at {self.line}:{self.column})"


class ZipAxes:
    """The variables of one `(a, b) in zip(xs, ys)`, each paired with its
    argument (the checker reports a count that does not match)."""

    __slots__ = ("together",)

    def __init__(self, together: A.Zip):
        self.together = together

    def axes(self) -> list[A.SweepAxis]:
        z = self.together
        return [A.SweepAxis(name, pos, self.value_of(name), z) for name, pos in zip(z.names, z.name_positions)]

    def value_of(self, name: str):
        z = self.together
        args = z.values.args if isinstance(z.values, A.Call) and z.values.name == "zip" else []
        i = z.names.index(name)
        return args[i] if i < len(args) else z.values


QUANTITY_SPLIT = re.compile(r"^(-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)(.*)$")
_WHOLE = re.compile(r"-?\d+")
_MAX_EXACT_DIGITS = 40


def parse_number(text: str) -> int | float:
    # A whole number of more digits than any limit allows stays a float
    # (possibly inf): int() of thousands of digits is refused (and slow);
    # the checker reports it out of range.
    if len(text) <= _MAX_EXACT_DIGITS and _WHOLE.fullmatch(text):
        return int(text)
    return float(text)
