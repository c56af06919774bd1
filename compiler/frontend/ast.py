"""The syntax tree of an .mlx file: what was written, with a position on every
node. Plain slotted dataclasses (not pydantic): a 20,000-stage file builds
millions of these, and they never leave the front end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from ..ir import Span


# File names by number, for Pos: a position holds its file's number. Only
# grows (a file name is a few dozen bytes; a process sees few of them).
_FILES: list[str] = []
_FILE_NUMBERS: dict[str, int] = {}


def file_number(file: str) -> int:
    number = _FILE_NUMBERS.get(file)
    if number is None:
        number = _FILE_NUMBERS[file] = len(_FILES)
        _FILES.append(file)
    return number


_int_new = int.__new__
_FIELD_MASKS = [(1 << w) - 1 for w in range(64)]
NARROW = 8  # the least width W: a position whose fields but the line are under 256


class Pos(int):
    """Where a node was written: file, line, column, end line, end column
    (1-based; the end column just past the node), with the attributes of
    those names and `span()`.

    One int rather than a 5-tuple (56 bytes traced rather than 88: a large
    file's syntax tree holds a million positions): from the low bits up, a width
    W (6 bits), then the end column, the column, the end line's distance
    from the line and the file's number (file_number) in W bits each, then
    the line in whatever bits it needs. W is the least multiple of 4 (8 at
    least) all four fit in, so the same position is always the same int:
    positions compare and hash as the tuples did (within one process)."""

    __slots__ = ()

    def __new__(cls, file: str, line: int, column: int, end_line: int, end_column: int) -> "Pos":
        return _int_new(cls, pack(file_number(file), line, column, end_line, end_column))

    @property
    def file(self) -> str:
        w = self & 63
        return _FILES[(self >> 6 + 3 * w) & _FIELD_MASKS[w]]

    @property
    def line(self) -> int:
        return self >> 6 + 4 * (self & 63)

    @property
    def column(self) -> int:
        w = self & 63
        return (self >> 6 + w) & _FIELD_MASKS[w]

    @property
    def end_line(self) -> int:
        w = self & 63
        return (self >> 6 + 4 * w) + ((self >> 6 + 2 * w) & _FIELD_MASKS[w])

    @property
    def end_column(self) -> int:
        return (self >> 6) & _FIELD_MASKS[self & 63]

    def fields(self) -> tuple[str, int, int, int, int]:
        """(file, line, column, end_line, end_column)."""
        w = self & 63
        mask = _FIELD_MASKS[w]
        line = self >> 6 + 4 * w
        return (_FILES[(self >> 6 + 3 * w) & mask], line, (self >> 6 + w) & mask,
                line + ((self >> 6 + 2 * w) & mask), (self >> 6) & mask)

    def span(self) -> Span:
        return Span(*self.fields())

    def to(self, other: "Pos") -> "Pos":
        """From the start of this position to the end of `other` (anything
        with end_line and end_column)."""
        w = self & 63
        mask = _FIELD_MASKS[w]
        line = self >> 6 + 4 * w
        return _int_new(Pos, pack((self >> 6 + 3 * w) & mask, line, (self >> 6 + w) & mask,
                                  other.end_line, other.end_column))

    def __repr__(self) -> str:
        return "Pos(%r, %d, %d, %d, %d)" % self.fields()

    # an int's arithmetic makes no sense of a position
    __str__ = __repr__

    def __reduce__(self):
        return Pos, self.fields()


def pack(number: int, line: int, column: int, end_line: int, end_column: int) -> int:
    """The int of Pos(file, ...), `number` being file_number(file)."""
    # Below zero (an editor's arithmetic on a strange position) reads as
    # zero, an end before the start as the start's line: a position is
    # only ever shown, and showing one must not fail.
    lines = max(end_line - line, 0)
    line, column, end_column = max(line, 0), max(column, 0), max(end_column, 0)
    w = max(NARROW, -(-max(number, column, lines, end_column).bit_length() // 4) * 4)
    if w > 60:  # W has 6 bits
        raise ValueError(f"not a position: column {column} or {end_column}")
    return w | end_column << 6 | column << 6 + w | lines << 6 + 2 * w | number << 6 + 3 * w | line << 6 + 4 * w


# --- values -----------------------------------------------------------------


@dataclass(slots=True)
class Interp:
    """`${a.b}` inside a string."""

    path: list[str]
    pos: Pos


@dataclass(slots=True)
class Str:
    pieces: list[Union[str, Interp]]  # decoded text and interpolations, in order
    pos: Pos
    long: bool = False  # written as """..."""

    def literal(self) -> str | None:
        """The text when the string has no interpolation."""
        if all(isinstance(p, str) for p in self.pieces):
            return "".join(self.pieces)  # type: ignore[arg-type]
        return None


@dataclass(slots=True)
class Num:
    value: int | float
    text: str
    pos: Pos


@dataclass(slots=True)
class Quantity:
    number: float
    unit: str
    text: str
    pos: Pos


@dataclass(slots=True)
class GpuSpec:
    count: Num
    type: str
    type_pos: Pos
    pos: Pos


@dataclass(slots=True)
class Bool:
    value: bool
    pos: Pos


@dataclass(slots=True)
class Ref:
    names: list[str]
    pos: Pos

    @property
    def dotted(self) -> str:
        return ".".join(self.names)


@dataclass(slots=True)
class Select:
    """`train[lr = lr, bs = 16].ckpt`: the members of a swept stage whose
    sweep variables have these values, and (in `names`) what follows."""

    stage: str
    stage_pos: Pos
    keys: list["KwArg"]
    names: list[str]  # after the `]`: the output, normally
    pos: Pos


@dataclass(slots=True)
class ListV:
    items: list["Value"]
    pos: Pos


@dataclass(slots=True)
class MapItem:
    key: str
    key_pos: Pos
    value: "Value"


@dataclass(slots=True)
class MapV:
    items: list[MapItem]
    pos: Pos


@dataclass(slots=True)
class KwArg:
    name: str
    name_pos: Pos
    value: "Value"


@dataclass(slots=True)
class Call:
    name: str
    name_pos: Pos
    args: list["Value"]
    kwargs: list[KwArg]
    pos: Pos


Value = Union[Str, Num, Quantity, GpuSpec, Bool, Ref, Select, ListV, MapV, Call]


# --- declarations -----------------------------------------------------------


@dataclass(slots=True)
class Field:
    name: str
    name_pos: Pos
    value: Value


@dataclass(slots=True)
class Port:
    direction: str  # "in" | "out"
    name: str
    name_pos: Pos
    value: Value
    pos: Pos


@dataclass(slots=True)
class TypeExpr:
    name: str
    arg: "TypeExpr | None"
    pos: Pos

    def __str__(self) -> str:
        return f"{self.name}[{self.arg}]" if self.arg else self.name


@dataclass(slots=True)
class Import:
    path: Str
    pos: Pos


@dataclass(slots=True)
class Experiment:
    name: str
    name_pos: Pos
    fields: list[Field]
    pos: Pos


@dataclass(slots=True)
class Param:
    name: str
    name_pos: Pos
    type: TypeExpr
    value: Value
    pos: Pos


@dataclass(slots=True)
class Secret:
    name: str
    name_pos: Pos
    fields: list[Field]
    pos: Pos


@dataclass(slots=True)
class Dataset:
    name: str
    name_pos: Pos
    fields: list[Field]
    pos: Pos


@dataclass(slots=True)
class PoolDecl:
    keyword: str  # "partition" | "pool"
    keyword_pos: Pos
    name: str
    name_pos: Pos
    fields: list[Field]
    pos: Pos


@dataclass(slots=True)
class Site:
    name: str
    name_pos: Pos
    kind: str
    kind_pos: Pos
    fields: list[Field]
    pools: list[PoolDecl]
    pos: Pos


@dataclass(slots=True)
class Link:
    source: str
    source_pos: Pos
    symmetric: bool
    target: str
    target_pos: Pos
    fields: list[Field]
    pos: Pos


@dataclass(slots=True)
class TemplateParam:
    name: str
    name_pos: Pos
    type: TypeExpr
    default: Value | None


@dataclass(slots=True)
class Body:
    fields: list[Field]
    ports: list[Port]


@dataclass(slots=True)
class Template:
    name: str
    name_pos: Pos
    params: list[TemplateParam]
    kind: str  # "stage" | "service"
    kind_pos: Pos
    body: Body
    pos: Pos


@dataclass(slots=True)
class Zip:
    """`(a, b) in zip(xs, ys)`: variables whose members go in pairs. Each
    variable is also a SweepAxis of its own, holding this."""

    names: list[str]
    name_positions: list[Pos]
    values: Value  # normally a call to `zip`
    pos: Pos  # from `(` to the end of the value


@dataclass(slots=True)
class SweepAxis:
    name: str
    name_pos: Pos
    values: Value  # of a zipped variable: its own argument of `zip`, when there is one
    zip: Zip | None = None


@dataclass(slots=True)
class Stage:
    name: str
    name_pos: Pos
    template: Call | None
    sweep: list[SweepAxis]
    body: Body
    pos: Pos


@dataclass(slots=True)
class Service:
    name: str
    name_pos: Pos
    template: Call | None
    body: Body
    pos: Pos


Decl = Union[Import, Experiment, Param, Secret, Dataset, Site, Link, Template, Stage, Service]


@dataclass(slots=True)
class Module:
    path: str  # as shown in diagnostics
    decls: list[Decl] = field(default_factory=list)
