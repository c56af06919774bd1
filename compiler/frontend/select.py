"""Per-member references: `in ckpt = train[lr = lr, bs = bs].ckpt` binds the
members of the swept stage `train` whose sweep variables have these values.

A selector that names every variable of the sweep binds one member; one
that names some of them binds every member that matches (`train[lr = lr]`
over a sweep of lr and bs reads all batch sizes of that lr): a per-member
fan-in. Only a selection that matches no member is an error.

Members are found through one index per (stage, selected variables), built
on first use, so binding N selections costs O(N) whatever their shape."""

from __future__ import annotations

from .. import ir
from ..diagnostics import choices, did_you_mean, help_, note
from . import ast as A
from .context import Context
from .evaluate import BAD, Scope, format_value, infer


def member_key(value) -> tuple:
    """What two sweep values must share to be equal: numbers compare as
    numbers (`0.1` selects `0.10`; `1` selects `1.0`), but never as booleans
    or strings (`"1"` does not select `1`)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, str):
        return ("str", value)
    return ("other", repr(value))


class MemberIndex:
    """Members of swept stages by the values of some of their variables."""

    def __init__(self, by_group: dict[str, list]):
        self.by_group = by_group
        self._tables: dict[tuple[str, tuple[str, ...]], dict[tuple, list]] = {}

    def matching(self, group: str, names: tuple[str, ...], keys: tuple) -> list:
        table = self._tables.get((group, names))
        if table is None:
            table = {}
            for member in self.by_group[group]:
                found = tuple(member_key(member.sweep[n]) for n in names)
                table.setdefault(found, []).append(member)
            self._tables[(group, names)] = table
        return table.get(keys, [])


def bind_selection(ctx: Context, port: A.Port, scope: Scope, index: MemberIndex) -> ir.Input | None:
    """The input a selection binds, or None when something was reported."""
    v: A.Select = port.value
    producers = index.by_group.get(v.stage)
    if producers is None:
        kind = ctx.decls.kind(v.stage)
        if kind == "stage":
            return None  # a stage that failed to lower: already reported
        ctx.diags.error("E0202", f"`{v.stage}` is a {kind}, not a stage" if kind else f"unknown stage `{v.stage}`",
                        v.stage_pos.span(),
                        *([n] if (n := did_you_mean(v.stage, [g for g, m in index.by_group.items()
                                                               if m[0].kind == "instance"])) else []))
        return None
    stage = producers[0]
    if stage.kind == "service":
        ctx.diags.error("E0604", f"`{v.stage}` is a service; services have no outputs", v.stage_pos.span())
        return None
    outs = [o.name for o in stage.outputs]
    if len(v.names) != 1:
        ctx.diags.error("E0602", f"name one output of `{v.stage}` after the selection", v.pos.span(),
                        help_(f"write `{v.stage}[...].{outs[0]}`" if outs else f"stage `{v.stage}` has no outputs"))
        return None
    variables = [a.name for a in stage.decl.sweep]
    if not variables:
        ctx.diags.error("E0570", f"stage `{v.stage}` is not a sweep: it has no members to select",
                        v.pos.span(), help_(f"write `{v.stage}.{v.names[0]}`"),
                        note("the stage is declared here", stage.decl.name_pos.span()))
        return None
    values = _selected_values(ctx, v, variables, scope)
    if values is None:
        return None
    name = v.names[0]
    if name not in outs and (name in stage.bad_outputs or stage.ports_unknown):
        return None  # the output (or the template declaring it) had an error, already reported
    if name not in outs:
        ctx.diags.error("E0602", f"stage `{v.stage}` has no output `{name}`", v.pos.span(),
                        did_you_mean(name, outs) or choices(outs, "its outputs"),
                        note("the stage is declared here", stage.decl.name_pos.span()))
        return None
    if not stage.sweep:
        ctx.skip()  # the sweep itself was broken: its members are not known
        return None
    names = tuple(values)
    matched = index.matching(v.stage, names, tuple(member_key(x) for x, _ in values.values()))
    if not matched:
        _report_no_member(ctx, v, values, producers)
        return None
    # The members of a sweep have the same outputs, unless a member's own
    # values broke one (a control character in a path, say).
    lacking = next((m for m in matched if not any(o.name == name for o in m.outputs)), None)
    if lacking is not None:
        if name not in lacking.bad_outputs and not lacking.ports_unknown:  # else already reported
            ctx.diags.error("E0602", f"`{lacking.id}` has no output `{name}`", v.pos.span(),
                            note("the stage is declared here", stage.decl.name_pos.span()))
        return None
    return ir.Input.trusted(name=port.name, outputs=[(m.id, name) for m in matched], span=port.name_pos.span())


def _selected_values(ctx: Context, v: A.Select, variables: list[str], scope: Scope) -> dict | None:
    """Each selected variable's value and its text, or None when a key was
    wrong (every key is checked)."""
    values: dict[str, tuple] = {}
    sound = True
    for key in v.keys:
        if key.name not in variables:
            ctx.diags.error("E0570", f"stage `{v.stage}` has no sweep variable `{key.name}`",
                            key.name_pos.span(),
                            did_you_mean(key.name, variables) or choices(variables, "its sweep variables"))
            sound = False
            continue
        if key.name in values:
            ctx.diags.error("E0570", f"`{key.name}` is selected twice", key.name_pos.span(),
                            help_("give each sweep variable one value"))
            sound = False
            continue
        bound = infer(key.value, ctx.ev, scope)
        if bound is BAD:
            sound = False
            continue
        values[key.name] = (bound.value, bound.text)
    return values if sound else None


def _report_no_member(ctx: Context, v: A.Select, values: dict, producers: list) -> None:
    """Names the value that no member has, with the values it could take."""
    wanted = " and ".join(f"{n} = {text}" for n, (_, text) in values.items())
    hint = help_("no single member has all of these values together")
    for name, (value, text) in values.items():
        present: dict[tuple, str] = {}
        for m in producers:
            present.setdefault(member_key(m.sweep[name]), format_value(m.sweep[name]))
        if member_key(value) not in present:
            shown = list(present.values())
            listed = ", ".join(shown[:6]) + (", ..." if len(shown) > 6 else "")
            hint = help_(f"`{name}` of `{v.stage}` is one of {listed}")
            break
    ctx.diags.error("E0571", f"no member of `{v.stage}` has {wanted}", v.pos.span(), hint,
                    note("the sweep is declared here", producers[0].decl.name_pos.span()))

