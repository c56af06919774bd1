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
