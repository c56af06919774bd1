"""Every name written in a program, and what it means: the language server's
go-to-definition, find-references and hover all start here.

A symbol is a string id:
    NAME                     a declaration (names share one namespace)
    SITE.POOL                a partition or pool
    UNIT.in.PORT / .out.     a port of a stage, service or template
    UNIT.axis.NAME           a sweep variable of a stage
    TEMPLATE.param.NAME      a template parameter
    field:BLOCK:NAME         a field name (BLOCK: stage, site:slurm, pool, ...)
    file:PATH                an imported file (PATH absolute)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..frontend import ast as A


@dataclass(frozen=True)
class Occurrence:
    symbol: str
    pos: A.Pos  # the name itself
    definition: bool = False


@dataclass
class Index:
    occurrences: list[Occurrence] = field(default_factory=list)
    definitions: dict[str, Occurrence] = field(default_factory=dict)
    declarations: dict[str, object] = field(default_factory=dict)  # name -> AST node

    def at(self, path: str, line: int, column: int) -> Occurrence | None:
        """The occurrence under a 1-based position of file `path`."""
        for occ in self.occurrences:
            p = occ.pos
            if p.file == path and p.line <= line <= p.end_line \
                    and (line > p.line or column >= p.column) \
                    and (line < p.end_line or column <= p.end_column):
                return occ
        return None

    def references(self, symbol: str) -> list[Occurrence]:
        return [o for o in self.occurrences if o.symbol == symbol]


def build_index(modules: list[A.Module]) -> Index:
    index = Index()
    for module in modules:
        for decl in module.decls:
            if not isinstance(decl, (A.Import, A.Experiment, A.Link)):
                index.declarations.setdefault(decl.name, decl)
    for module in modules:
        _Walker(index, module.path).module(module)
    for occ in index.occurrences:
        if occ.definition:
            index.definitions.setdefault(occ.symbol, occ)
    return index


def _name_at(pos: A.Pos, name: str, offset: int = 0) -> A.Pos:
    return A.Pos(pos.file, pos.line, pos.column + offset, pos.line, pos.column + offset + len(name))


def _last_name_at(pos: A.Pos, name: str) -> A.Pos:
    return A.Pos(pos.file, pos.end_line, pos.end_column - len(name), pos.end_line, pos.end_column)


class _Walker:
    """One module's occurrences. `unit` and `local` track where a name is
    read: inside a stage its sweep variables, inside a template its
    parameters, hide declarations of the same name."""

    def __init__(self, index: Index, path: str):
        self.index = index
        self.path = path
        self.unit: str | None = None
        self.local: dict[str, str] = {}  # name -> symbol

    def add(self, symbol: str, pos: A.Pos, definition: bool = False) -> None:
        self.index.occurrences.append(Occurrence(symbol, pos, definition))

    def kind_of(self, name: str) -> str | None:
        decl = self.index.declarations.get(name)
        return None if decl is None else type(decl).__name__

    def module(self, module: A.Module) -> None:
        for decl in module.decls:
            self.unit, self.local = None, {}
            self.decl(decl)

    def decl(self, d) -> None:
        if isinstance(d, A.Import):
            target = d.path.literal()
            if target:
                full = os.path.realpath(os.path.join(os.path.dirname(self.path), target))
                self.add(f"file:{full}", d.path.pos)
            return
        if isinstance(d, A.Link):
            self.add(d.source, d.source_pos)
            self.add(d.target, d.target_pos)
            self.fields(d.fields, "link")
            return
        if isinstance(d, A.Experiment):
            self.fields(d.fields, "experiment")
            return
        self.add(d.name, d.name_pos, definition=True)
        if isinstance(d, A.Param):
            self.value(d.value)
        elif isinstance(d, (A.Secret, A.Dataset)):
            self.fields(d.fields, type(d).__name__.lower())
        elif isinstance(d, A.Site):
            self.fields(d.fields, f"site:{d.kind}")
            for pool in d.pools:
                self.add(f"{d.name}.{pool.name}", pool.name_pos, definition=True)
                self.fields(pool.fields, "pool")
        elif isinstance(d, A.Template):
            self.unit = d.name
            for p in d.params:
                symbol = f"{d.name}.param.{p.name}"
                self.add(symbol, p.name_pos, definition=True)
                if p.default is not None:
                    self.value(p.default)
                self.local[p.name] = symbol
            self.body(d.body, d.kind)
        elif isinstance(d, (A.Stage, A.Service)):
            self.unit = d.name
            axes = d.sweep if isinstance(d, A.Stage) else []
            zips: set[int] = set()
            for axis in axes:
                if axis.zip is None:
                    self.value(axis.values)
                elif id(axis.zip) not in zips:  # `(a, b) in zip(...)`: the zip once
                    zips.add(id(axis.zip))
                    self.value(axis.zip.values)
            for axis in axes:  # in scope in the template call and the body
                symbol = f"{d.name}.axis.{axis.name}"
                self.add(symbol, axis.name_pos, definition=True)
                self.local[axis.name] = symbol
            if d.template is not None:
                self.call(d.template)
            self.body(d.body, "stage" if isinstance(d, A.Stage) else "service")

    def body(self, body: A.Body, block: str) -> None:
        for port in body.ports:
            self.add(f"{self.unit}.{port.direction}.{port.name}", port.name_pos, definition=True)
            self.value(port.value)
        self.fields(body.fields, block)

    def fields(self, fields: list[A.Field], block: str) -> None:
        for f in fields:
            self.add(f"field:{block}:{f.name}", f.name_pos)
            self.value(f.value)

    def value(self, v) -> None:
        if isinstance(v, A.Ref):
            self.ref(v.names, v.pos, interpolated=False)
        elif isinstance(v, A.Str):
            for piece in v.pieces:
                if isinstance(piece, A.Interp):
                    inner = A.Pos(piece.pos.file, piece.pos.line, piece.pos.column + 2,
                                  piece.pos.end_line, piece.pos.end_column - 1)
                    self.ref(piece.path, inner, interpolated=True)
        elif isinstance(v, A.ListV):
            for item in v.items:
                self.value(item)
        elif isinstance(v, A.MapV):
            for item in v.items:
                self.value(item.value)
        elif isinstance(v, A.Call):
            self.call(v)
        elif isinstance(v, A.Select):
            self.select(v)

    def select(self, v: A.Select) -> None:
        """`train[lr = lr].ckpt`: the stage, each key as the stage's sweep
        variable, each value as read here, and the output."""
        if self.kind_of(v.stage) is None:
            return
        self.add(v.stage, v.stage_pos)
        for kw in v.keys:
            self.add(f"{v.stage}.axis.{kw.name}", kw.name_pos)
            self.value(kw.value)
        if len(v.names) == 1 and self.kind_of(v.stage) == "Stage":
            self.add(f"{v.stage}.out.{v.names[0]}", _last_name_at(v.pos, v.names[0]))

    def call(self, c: A.Call) -> None:
        is_template = self.kind_of(c.name) == "Template"
        if is_template:
            self.add(c.name, c.name_pos)
        for arg in c.args:
            self.value(arg)
        for kw in c.kwargs:
            if is_template:
                self.add(f"{c.name}.param.{kw.name}", kw.name_pos)
            self.value(kw.value)

    def ref(self, names: list[str], pos: A.Pos, interpolated: bool) -> None:
        first = names[0]
        if interpolated and first in ("in", "out") and len(names) == 2 and self.unit:
            self.add(f"{self.unit}.{first}.{names[1]}", _last_name_at(pos, names[1]))
            return
        if first in self.local:
            self.add(self.local[first], _name_at(pos, first))
            return
        kind = self.kind_of(first)
        if kind is None:
            return
        self.add(first, _name_at(pos, first))
        if len(names) == 2 and kind == "Site":
            self.add(f"{first}.{names[1]}", _last_name_at(pos, names[1]))
        elif len(names) == 2 and kind in ("Stage", "Service"):
            self.add(f"{first}.out.{names[1]}", _last_name_at(pos, names[1]))
