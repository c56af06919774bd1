"""State shared by the lowering passes, and the field-block checker they all use."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostics, did_you_mean, help_, note
from . import ast as A
from .evaluate import BAD, Evaluator, Scope
from .schema import FieldSpec
from .scope import Declarations


@dataclass
class Context:
    diags: Diagnostics
    decls: Declarations
    ev: Evaluator
    params: Scope
    site_kinds: dict[str, str] = field(default_factory=dict)  # site -> kind
    pools: dict[str, list[str]] = field(default_factory=dict)  # site -> pool names
    gpu_types: set[str] = field(default_factory=set)
    # Declarations that had an error: names, and pools as `site.pool`. Later
    # passes skip what refers to them instead of calling them unknown.
    poisoned: set[str] = field(default_factory=set)
    gpu_types_complete: bool = True  # False when a pool's GPUs could not be read
    skipped: int = 0  # references skipped because they named something poisoned
    shared: dict = field(default_factory=dict)  # see one()

    def one(self, model: type, **values):
        """`model(**values)`, made once for each distinct set of values and
        then shared: thousands of stages have the same resources. The values
        must be hashable; their types are part of the key (1 and 1.0 and
        True are equal, but need not validate alike)."""
        key = (model, *((name, type(v), v) for name, v in values.items()))
        made = self.shared.get(key)
        if made is None:
            made = self.shared[key] = model(**values)
        return made

    def mark(self) -> tuple[int, int, int]:
        """A point to ask `failed_since` about."""
        return len(self.diags.items), self.skipped, self.ev.poisoned_uses

    def failed_since(self, mark: tuple[int, int, int]) -> bool:
        """Whether anything since `mark` had an error, or used something that had one."""
        errors = any(d.severity == "error" for d in self.diags.items[mark[0]:])
        return errors or self.skipped != mark[1] or self.ev.poisoned_uses != mark[2]

    def is_poisoned(self, dotted: str) -> bool:
        """`hpc` or `hpc.gpu`: the site or the pool had an error."""
        return dotted in self.poisoned or dotted.split(".")[0] in self.poisoned

    def skip(self) -> None:
        """A reference to a poisoned declaration is dropped without a report."""
        self.skipped += 1


def check_fields(
    ctx: Context,
    fields: list[A.Field],
    spec: dict[str, FieldSpec],
    scope: Scope,
    *,
    what: str,
    at: A.Pos,
    required: bool = True,
) -> dict[str, object]:
    """Evaluate a block's fields against its spec. Unknown, repeated and
    missing fields are reported; a field with a bad value is left out."""
    values: dict[str, object] = {}
    seen: dict[str, A.Field] = {}
    for f in fields:
        if f.name not in spec:
            hint = did_you_mean(f.name, spec) or help_(
                "fields here: " + ", ".join(f"`{n}`" for n in sorted(spec)))
            ctx.diags.error("E0301", f"unknown field `{f.name}` in {what}", f.name_pos.span(), hint)
            continue
        if f.name in seen:
            ctx.diags.error("E0307", f"field `{f.name}` is set twice in {what}", f.name_pos.span(),
                            note("first set here", seen[f.name].name_pos.span()))
            continue
        seen[f.name] = f
        value = evaluate_field(ctx, f, spec[f.name], scope)
        if value is not BAD:
            values[f.name] = value
    if required:
        missing = [n for n, s in spec.items() if s.required and n not in seen]
        for name in missing:
            ctx.diags.error("E0302", f"{what} has no `{name}`", at.span(),
                            help_(f"add `{name} = ...`"))
    return values


def evaluate_field(ctx: Context, f: A.Field, spec: FieldSpec, scope: Scope):
    """Fields of the checker's own types (site refs, placement, ...) are kept
    as syntax here and resolved by the pass that knows the names; the rest
    are evaluated."""
    if spec.type[0] in ("site", "placement", "units", "estimate", "objective", "env", "command", "signal", "shapes"):
        return f.value
    value = ctx.ev.value(f.value, spec.type, scope)
    problem = spec.range.problem(value) if spec.range is not None and value is not BAD else None
    if problem is not None:
        ctx.diags.error("E0306", f"`{f.name}` {problem}", f.value.pos.span())
        return BAD
    return value


def positive(ctx: Context, values: dict, name: str, fields: list[A.Field], *, zero_ok: bool = False) -> None:
    """Numbers that make no sense below 1 (cpus, nodes, replicas...)."""
    value = values.get(name)
    if value is None:
        return
    if value < 0 or (value == 0 and not zero_ok):
        f = next(x for x in fields if x.name == name)
        ctx.diags.error("E0306", f"`{name}` must be {'zero or more' if zero_ok else 'at least 1'}",
                        f.value.pos.span())
        del values[name]
