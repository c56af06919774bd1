"""Values: checking a written value against the type a field expects, and
turning it into a Python value in the IR's base units.

Names in values and `${...}` in strings resolve through a `Scope`: command-
line overrides and params, then sweep variables, then template parameters."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from ..diagnostics import Diagnostics, choices, did_you_mean, help_
from ..ir import Gpus
from . import ast as A
from . import limits as L
from . import units as U
from .schema import Type, type_name

# The largest value of each dimension, in base units (limits.py).
_QUANTITY_MAX = {U.SIZE: L.MAX_SIZE, U.DURATION: L.MAX_DURATION}
_RATE = f"{L.MAX_RATE:.0e}".replace("+", "")  # 1e15
_LIMIT_TEXT = {U.SIZE: f"{(L.MAX_SIZE + 1) // 1024**5}PiB", U.DURATION: f"{L.MAX_DURATION / 86400:g}d",
               U.BANDWIDTH: f"{_RATE}B/s", U.PRICE: f"{_RATE}/h", U.EGRESS: f"{_RATE}/GB"}


def whole(v: A.Num) -> bool:
    """Written as a whole number (`3`, not `3.0`); the parser keeps a whole
    number too long for an exact int as a float, so test the text."""
    return v.text.lstrip("-").isdigit()


class _Bad:
    """The value had an error (already reported)."""

    def __repr__(self) -> str:
        return "BAD"


BAD = _Bad()


@dataclass(frozen=True)
class Bound:
    """A name's value in scope, with its type and how to print it."""

    value: Any
    type: Type
    text: str
    pos: A.Pos | None = None


# The type of a name whose declaration had an error (a param with a bad
# value, a sweep over a bad list): it stays in scope, so a use of it is not
# "unknown name", but any value that uses it is BAD without a new report.
POISONED: Type = ("poisoned",)


def poisoned(pos: A.Pos | None = None) -> Bound:
    return Bound(None, POISONED, "", pos)


def format_value(value: Any) -> str:
    """The canonical text of a scalar, for ids and interpolation."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text
    if isinstance(value, list):
        return " ".join(format_value(v) for v in value)
    return str(value)


class Scope:
    __slots__ = ("names", "parent")  # one per sweep member and template use

    def __init__(self, names: dict[str, Bound], parent: "Scope | None" = None):
        self.names = names
        self.parent = parent

    def lookup(self, name: str) -> Bound | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def all_names(self) -> list[str]:
        out: list[str] = []
        scope: Scope | None = self
        while scope is not None:
            out.extend(scope.names)
            scope = scope.parent
        return out


def _compatible(have: Type, want: Type) -> bool:
    if have == want:
        return True
    if want == ("float",) and have == ("int",):
        return True
    if want[0] == "list" and have[0] == "list":
        return _compatible(have[1], want[1])
    return False


class Evaluator:
    """Evaluates values; reports problems into `diags` and returns BAD."""

    def __init__(self, diags: Diagnostics, declared: Callable[[str], str | None]):
        self.diags = diags
        self.declared = declared  # name -> kind of declaration ("site", "stage", ...) or None
        self.poisoned_uses = 0  # values left BAD, silently, because they use a poisoned name

    # --- scalar helpers ---
    def _type_error(self, v, want: Type, found: str, *notes) -> _Bad:
        self.diags.error("E0303", f"expected {type_name(want)}, found {found}", v.pos.span(), *notes)
        return BAD

    def describe(self, v) -> str:
        if isinstance(v, A.Str):
            return "a string"
        if isinstance(v, A.Num):
            return f"the number {v.text}"
        if isinstance(v, A.Quantity):
            dim = U.lookup(v.unit)
            return f"{U.DIMENSION_NAMES[dim[0]].split(' (')[0]} `{v.text}`" if dim else f"`{v.text}`"
        if isinstance(v, A.Bool):
            return "a boolean"
        if isinstance(v, A.GpuSpec):
            return "a GPU count"
        if isinstance(v, A.ListV):
            return "a list"
        if isinstance(v, A.MapV):
            return "a map"
        if isinstance(v, A.Call):
            return f"a call to `{v.name}`"
        if isinstance(v, A.Select):
            return f"members of the stage `{v.stage}`"
        if isinstance(v, A.Ref):
            kind = self.declared(v.names[0])
            return f"the {kind} `{v.dotted}`" if kind else f"`{v.dotted}`"
        return "a value"

    def lookup_name(self, ref: A.Ref, scope: Scope) -> Bound | None | _Bad:
        """A single-name reference to a value in scope; reports unknown names."""
        if len(ref.names) != 1:
            return None
        bound = scope.lookup(ref.names[0])
        if bound is not None and bound.type == POISONED:
            self.poisoned_uses += 1
            return BAD
        if bound is not None:
            return bound
        kind = self.declared(ref.names[0])
        if kind is not None:
            return None  # names a declaration; the caller decides if that fits
        note = did_you_mean(ref.names[0], scope.all_names())
        self.diags.error("E0202", f"unknown name `{ref.names[0]}`", ref.pos.span(),
                         *([note] if note else [help_("names in values are params, sweep "
                                                      "variables and template parameters")]))
        return BAD

    def quantity(self, v, dim: str, scope: Scope):
        if isinstance(v, A.Quantity):
            found = U.lookup(v.unit)
            if found is None:
                guess = U.suggestion(v.unit)
                hint = help_(f"did you mean `{v.text[: len(v.text) - len(v.unit)]}{guess}`?") if guess \
                    else help_(f"units for {U.DIMENSION_NAMES[dim]}: " + ", ".join(U.DIMENSION_UNITS[dim]))
                self.diags.error("E0304", f"unknown unit `{v.unit}`", v.pos.span(), hint)
                return BAD
            if found[0] != dim:
                self.diags.error(
                    "E0305", f"expected {U.DIMENSION_NAMES[dim].split(' (')[0]}, found "
                    f"{U.DIMENSION_NAMES[found[0]].split(' (')[0]} `{v.text}`", v.pos.span(),
                    help_(f"write {U.DIMENSION_NAMES[dim]}"))
                return BAD
            return self._in_bounds(v, v.number * found[1], dim)
        if isinstance(v, A.Num):
            if v.value == 0:
                return 0.0
            self.diags.error("E0305", f"`{v.text}` needs a unit", v.pos.span(),
                             help_(f"write {U.DIMENSION_NAMES[dim]}"))
            return BAD
        if isinstance(v, A.Ref):
            bound = self.lookup_name(v, scope)
            if bound is BAD:
                return BAD
            if isinstance(bound, Bound) and bound.type == (dim,):
                return bound.value
        return self._type_error(v, (dim,), self.describe(v))

    def _in_bounds(self, v, value: float, dim: str):
        """A quantity is finite, not negative, and within its dimension's limit."""
        name = U.DIMENSION_NAMES[dim].split(" (")[0]
        if value < 0:
            self.diags.error("E0313", f"`{v.text}` is negative", v.pos.span(),
                             help_(f"{name} is zero or more"))
            return BAD
        limit = _QUANTITY_MAX.get(dim, L.MAX_RATE)
        if not value <= limit:  # also catches NaN
            self.diags.error("E0313", f"`{v.text}` is out of range", v.pos.span(),
                             help_(f"{name} is at most {_LIMIT_TEXT[dim]}"))
            return BAD
        return value

    def number(self, v: A.Num):
        """A number literal within the limits: whole numbers fit int64, other
        numbers are finite."""
        if whole(v):
            if abs(v.value) <= L.MAX_WHOLE:
                return v.value
            hint = f"whole numbers are at most {L.MAX_WHOLE} in size"
        else:
            if math.isfinite(v.value):
                return v.value
            hint = "numbers are at most about 1.8e308 in size"
        shown = v.text if len(v.text) <= 40 else v.text[:20] + "..."
        self.diags.error("E0313", f"`{shown}` is out of range", v.pos.span(), help_(hint))
        return BAD

    # --- strings ---
    def string(self, v, scope: Scope, *, allow_ports: bool = False, shell: bool = False):
        """Interpolate a string. With `allow_ports`, returns a list of parts
        (str, or ("in"|"out", name, pos)) instead of one string; with `shell`
        (a command), each interpolated value stays a part of its own,
        ("value", name, text, pos), for the back ends to pass as a variable."""
        if isinstance(v, A.Ref):
            bound = self.lookup_name(v, scope)
            if bound is BAD:
                return BAD
            if isinstance(bound, Bound) and bound.type == ("str",):
                if shell:
                    return [("value", v.names[0], bound.value, v.pos)]
                return [bound.value] if allow_ports else bound.value
            return self._type_error(v, ("str",), self.describe(v))
        if not isinstance(v, A.Str):
            found = self.describe(v)
            notes = [help_("quote it: write the value in double quotes")] if isinstance(
                v, (A.Num, A.Quantity)) else []
            return self._type_error(v, ("str",), found, *notes)
        parts: list = []
        ok = True
        for piece in v.pieces:
            if isinstance(piece, str):
                parts.append(piece)
                continue
            head = piece.path[0]
            if head in ("in", "out") and len(piece.path) == 2:
                if allow_ports:
                    parts.append((head, piece.path[1], piece.pos))
                else:
                    self.diags.error("E0504", f"`${{{'.'.join(piece.path)}}}` can only be used in `run`",
                                     piece.pos.span(),
                                     help_("ports name paths on the site that runs the command"))
                    ok = False
                continue
            if len(piece.path) != 1:
                self.diags.error("E0503", f"cannot interpolate `{'.'.join(piece.path)}`",
                                 piece.pos.span(),
                                 help_("interpolate a param, sweep variable or template "
                                       "parameter, or `${in.NAME}` / `${out.NAME}` in `run`"))
                ok = False
                continue
            bound = scope.lookup(head)
            if bound is not None and bound.type == POISONED:
                self.poisoned_uses += 1
                ok = False
                continue
            if bound is None:
                note = did_you_mean(head, scope.all_names())
                self.diags.error("E0503", f"unknown name `{head}` in `${{...}}`", piece.pos.span(),
                                 note or help_("write `$${...}` for a literal `${` (shell syntax)"))
                ok = False
                continue
            text = bound.text if bound.type[0] != "str" else bound.value
            parts.append(("value", head, text, piece.pos) if shell else text)
        if not ok:
            return BAD
        if allow_ports:
            return parts
        return "".join(parts)

    # --- the main dispatch ---
    def value(self, v, t: Type, scope: Scope):
        kind = t[0]
        if kind == "int":
            if isinstance(v, A.Num) and whole(v):
                return self.number(v)
            if isinstance(v, A.Ref):
                bound = self.lookup_name(v, scope)
                if bound is BAD:
                    return BAD
                if isinstance(bound, Bound) and bound.type == ("int",):
                    return bound.value
            notes = [help_("write a whole number")] if isinstance(v, A.Num) else []
            return self._type_error(v, t, self.describe(v), *notes)
        if kind == "float":
            if isinstance(v, A.Num):
                n = self.number(v)
                return BAD if n is BAD else float(n)
            if isinstance(v, A.Ref):
                bound = self.lookup_name(v, scope)
                if bound is BAD:
                    return BAD
                if isinstance(bound, Bound) and bound.type in (("int",), ("float",)):
                    return float(bound.value)
            return self._type_error(v, t, self.describe(v))
        if kind == "str":
            return self.string(v, scope)
        if kind == "bool":
            if isinstance(v, A.Bool):
                return v.value
            if isinstance(v, A.Ref):
                bound = self.lookup_name(v, scope)
                if bound is BAD:
                    return BAD
                if isinstance(bound, Bound) and bound.type == ("bool",):
                    return bound.value
            return self._type_error(v, t, self.describe(v), help_("write `true` or `false`"))
        if kind in (U.SIZE, U.DURATION, U.BANDWIDTH, U.PRICE, U.EGRESS):
            result = self.quantity(v, kind, scope)
            if result is not BAD and kind == U.SIZE:
                return int(round(result))
            return result
        if kind == "gpus":
            return self.gpus(v, scope)
        if kind == "list":
            if isinstance(v, A.Ref):
                bound = self.lookup_name(v, scope)
                if bound is BAD:
                    return BAD
                if isinstance(bound, Bound) and _compatible(bound.type, t):
                    return list(bound.value)
                return self._type_error(v, t, self.describe(v))
            if isinstance(v, A.Call) and v.name == "range" and t[1] in (("int",), ("float",)):
                from .ranges import range_members  # ranges builds on this module
                members = range_members(self, v, scope)
                if members is BAD:
                    return BAD
                return [float(n) for n in members] if t[1] == ("float",) else list(members)
            if not isinstance(v, A.ListV):
                return self._type_error(v, t, self.describe(v), help_("write a list: `[a, b]`"))
            items = [self.value(x, t[1], scope) for x in v.items]
            return BAD if any(x is BAD for x in items) else items
        if kind == "map":
            if not isinstance(v, A.MapV):
                return self._type_error(v, t, self.describe(v),
                                        help_('write a map: `{"key": "value"}`'))
            out = {item.key: self.value(item.value, t[1], scope) for item in v.items}
            return BAD if any(x is BAD for x in out.values()) else out
        if kind == "enum":
            name = v.dotted if isinstance(v, A.Ref) else (v.literal() if isinstance(v, A.Str) else None)
            if name in t[1]:
                return name
            self.diags.error("E0306", f"expected one of {type_name(t)}, found {self.describe(v)}",
                             v.pos.span(), choices(t[1]))
            return BAD
        raise AssertionError(f"no evaluator for type {t}")  # the checker's own bug

    def gpus(self, v, scope: Scope):
        if isinstance(v, A.GpuSpec):
            if not whole(v.count) or not 1 <= v.count.value <= L.MAX_INT:
                self.diags.error("E0306", "the GPU count must be a positive whole number",
                                 v.count.pos.span())
                return BAD
            return Gpus(count=v.count.value, type=v.type)
        if isinstance(v, A.Num) and whole(v) and v.value >= 0:
            count = self.number(v)
            if count is BAD:
                return BAD
            return Gpus(count=count) if count else None
        if isinstance(v, A.Quantity) and v.unit.startswith("x"):
            self.diags.error("E0304", f"unknown unit `{v.unit}`", v.pos.span(),
                             help_(f"GPUs are written with spaces: `{v.text[:-len(v.unit)]} x {v.unit[1:]}`"))
            return BAD
        return self._type_error(v, ("gpus",), self.describe(v),
                                help_("write a count, or a count and a model: `4 x a100`"))


def infer(v, ev: Evaluator, scope: Scope) -> Bound | _Bad:
    """The value and type of an untyped literal (a sweep member)."""
    if isinstance(v, A.Num):
        value = ev.number(v)
        if value is BAD:
            return BAD
        return Bound(value, ("int",) if whole(v) else ("float",), v.text, v.pos)
    if isinstance(v, A.Bool):
        return Bound(v.value, ("bool",), format_value(v.value), v.pos)
    if isinstance(v, A.Str):
        text = ev.string(v, scope)
        return BAD if text is BAD else Bound(text, ("str",), text, v.pos)
    if isinstance(v, A.Quantity):
        dim = U.lookup(v.unit)
        if dim is None:
            ev.diags.error("E0304", f"unknown unit `{v.unit}`", v.pos.span())
            return BAD
        value = ev.quantity(v, dim[0], scope)
        return BAD if value is BAD else Bound(value, (dim[0],), v.text, v.pos)
    if isinstance(v, A.Ref):
        bound = ev.lookup_name(v, scope)
        if isinstance(bound, Bound):
            return bound
        if bound is None:
            ev.diags.error("E0303", f"expected a value, found {ev.describe(v)}", v.pos.span())
        return BAD
    ev.diags.error("E0303", f"expected a number, string, boolean or quantity, found {ev.describe(v)}",
                   v.pos.span())
    return BAD
