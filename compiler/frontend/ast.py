"""The syntax tree of an .mlx file: what was written, with a position on every
node. Plain slotted dataclasses (not pydantic): a 20,000-stage file builds
millions of these, and they never leave the front end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from ..span import Span

# Where a node was written: the IR's span of it, the same object.
Pos = Span


# --- values -----------------------------------------------------------------


@dataclass(slots=True)
class Interp:
    """`${a.b}` inside a string."""

    path: list[str]
    pos: Pos


@dataclass(slots=True)
class Str:
    pieces: tuple[Union[str, Interp], ...]  # decoded text and interpolations, in order
    pos: Pos
    long: bool = False  # written as """..."""

    def literal(self) -> str | None:
        """The text when the string has no interpolation."""
        if all(isinstance(p, str) for p in self.pieces):
            return "".join(self.pieces)  # type: ignore[arg-type]
        return None


def plain_digits(text: str) -> bool:
    """Whether `text` is a whole number as Python writes it (`12`, not
    `012`, `1_000` or `1e3`): a number or quantity written so keeps no copy
    of its text, which is then made again from the value on demand (one
    string less per file size of a large workflow)."""
    return text.isascii() and text.isdigit() and (text[0] != "0" or len(text) == 1)


@dataclass(slots=True)
class Num:
    value: int | float
    spelled: str | None  # the text as written; None when it is str(value) (`plain_digits`)
    pos: Pos

    @property
    def text(self) -> str:
        return self.spelled if self.spelled is not None else str(self.value)

    @staticmethod
    def of(value: int | float, text: str, pos: Pos) -> Num:  # noqa: PYI041 (an int stays an int)
        return Num(value, None if type(value) is int and plain_digits(text) else text, pos)


@dataclass(slots=True)
class Quantity:
    number: float
    unit: str
    spelled: str | None  # the text as written; None when it is the whole number and the unit (`plain_digits`)
    pos: Pos

    @property
    def text(self) -> str:
        return self.spelled if self.spelled is not None else f"{int(self.number)}{self.unit}"

    @staticmethod
    def of(number_text: str, unit: str, text: str, pos: Pos) -> Quantity:
        """From the number as written and its unit, `text` being both."""
        exact = len(number_text) <= 15 and plain_digits(number_text)  # a float holds it exactly
        return Quantity(float(number_text), unit, None if exact else text, pos)


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
    names: tuple[str, ...]
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
    args: tuple["Value", ...]
    kwargs: tuple[KwArg, ...]
    pos: Pos  # from the name to the `)`

    @property
    def name_pos(self) -> Pos:
        """Where the name was written: the start of `pos` (not kept: a
        large workflow has a call on every file port)."""
        return self.pos.head(len(self.name))


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
