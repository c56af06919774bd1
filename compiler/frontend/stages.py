"""Lowering of stages and services: template instantiation, sweep expansion,
resources, commands, environment and pins. Inputs are bound later, by
graph.py, once every stage's outputs are known."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from .. import ir, shell_context
from ..diagnostics import choices, did_you_mean, help_, note
from . import ast as A
from . import limits as L
from . import multinode
from . import schema as S
from .commands import trim_command
from .context import Context, check_fields, positive
from .evaluate import BAD, POISONED, Bound, Scope, format_value, infer, poisoned
from .paths import NAME_MAX, overlong_name, uri_scheme, work_path
from .platform import user_type
from .publish import STORES, publish_uri
from .ranges import is_range, range_members
from .stage_options import NO_SLURM, NO_SOFTWARE
from .stage_options import lower as lower_stage_options


@dataclass(slots=True)  # one per unit: no __dict__ each
class UnitFields:
    """A unit's evaluated, IR-ready fields: the ones instances and services
    share, then each one's own (left at their defaults for the other)."""

    image: str | None
    command: list[ir.CommandPart]
    resources: ir.Resources
    env: dict[str, ir.EnvValue]
    on: list[str]
    not_on: list[str]
    after: list[str] = field(default_factory=list)  # unit ids, bound by graph.py
    estimate: ir.Estimate | None = None  # instances
    retries: int = 0  # instances
    launch: ir.Launch | None = None  # instances
    shapes: list[ir.Shape] = field(default_factory=list)  # instances
    replicas: int = 1  # services
    port: int = 0  # services
    health: str | None = None  # services
    software: ir.Software = NO_SOFTWARE  # instances
    slurm: ir.SlurmOptions = NO_SLURM  # instances
    lifetime: str | None = None  # services; None: chosen by lifetimes.py from its consumers
    lifetime_span: ir.Span | None = None  # where `lifetime` was written, for diagnostics
    consumers: list[str] = field(default_factory=list)  # services; bound by lifetimes.py

    def _common(self) -> dict:
        return {"image": self.image, "command": self.command, "resources": self.resources, "env": self.env,
                "on": self.on, "not_on": self.not_on, "after": self.after}

    def instance_args(self) -> dict:
        """Keyword arguments of ir.StageInstance."""
        return {**self._common(), "estimate": self.estimate, "retries": self.retries,
                "software": self.software, "slurm": self.slurm,
                "launch": self.launch, "shapes": self.shapes}

    def service_args(self) -> dict:
        """Keyword arguments of ir.Service."""
        return {**self._common(), "replicas": self.replicas, "port": self.port, "health": self.health,
                "consumers": self.consumers, **({"lifetime": self.lifetime} if self.lifetime else {})}


@dataclass(slots=True)
class UnitDraft:
    """A stage instance or service before its inputs are bound."""

    kind: str  # "instance" | "service"
    id: str
    group: str
    decl: A.Stage | A.Service
    fields: UnitFields | None  # None once graph.py has made the instance
    outputs: list[ir.Output]
    inputs: list[tuple[A.Port, Scope]] | tuple[()]  # emptied once graph.py has bound them
    after: list[A.Ref] = field(default_factory=list)
    index: int = 0
    sweep: dict = field(default_factory=dict)
    template: str | None = None
    # Something in it had an error: it takes part in the DAG (so no one calls
    # it unknown), but not in feasibility. Outputs that failed to lower are
    # named in bad_outputs; with ports_unknown (its template could not be
    # used), any output name may have been declared.
    poisoned: bool = False
    bad_outputs: frozenset[str] = frozenset()
    ports_unknown: bool = False


def lower_units(ctx: Context, *, keep_syntax: bool = True) -> tuple[list[UnitDraft], list[ir.StageGroup]]:
    """Without `keep_syntax`, a stage's body (its fields and ports) is
    dropped from the syntax tree once the stage is lowered: what the graph
    needs of it is in its drafts (the IR of its outputs, the syntax of its
    inputs), and on large workflows the rest is most of the tree."""
    drafts: list[UnitDraft] = []
    groups: list[ir.StageGroup] = []
    for d in ctx.decls.order:
        if isinstance(d, A.Stage):
            members = _lower_stage(ctx, d)
            if not keep_syntax:
                d.body = _LOWERED
            drafts.extend(members)
            if members:
                groups.append(ir.StageGroup.trusted(name=d.name, instances=[m.id for m in members],
                                                    sweep_axes=[a.name for a in d.sweep],
                                                    span=d.name_pos.span()))
        elif isinstance(d, A.Service):
            drafts.append(_lower_one(ctx, d, Scope({}, ctx.params), "service", d.name, 0, {}))
    for d in ctx.decls.shadowed:  # checked for their own mistakes, then left out
        if isinstance(d, A.Stage):
            _lower_stage(ctx, d)
        elif isinstance(d, A.Service):
            _lower_one(ctx, d, Scope({}, ctx.params), "service", d.name, 0, {})
    _check_unused_templates(ctx)
    return drafts, groups


_NONE_BAD: frozenset[str] = frozenset()  # shared by every draft whose outputs all lowered
_LOWERED = A.Body([], [])  # the body of a stage whose syntax is no longer needed


def _check_unused_templates(ctx: Context) -> None:
    """A template no stage uses is still checked: its fields, ports and
    parameter types. Its parameters are poisoned (they have no values), and
    nothing is missing (the stage that uses it may add it)."""
    used = {d.template.name for d in [*ctx.decls.order, *ctx.decls.shadowed]
            if isinstance(d, (A.Stage, A.Service)) and d.template is not None}
    for t in ctx.decls.of_kind(A.Template):
        if t.name in used:
            continue
        params = {}
        for p in t.params:
            user_type(ctx, p.type)
            params[p.name] = poisoned(p.name_pos)
        kind = "service" if t.kind == "service" else "instance"
        unit = (A.Service(t.name, t.name_pos, None, t.body, t.pos) if kind == "service"
                else A.Stage(t.name, t.name_pos, None, [], t.body, t.pos))
        _lower_one(ctx, unit, Scope(params, ctx.params), kind, t.name, 0, {},
                   label=f"template `{t.name}`")


def _sweep_points(ctx: Context, d: A.Stage) -> tuple[list[dict[str, Bound]], bool]:
    """The sweep's members, and whether it is sound. A broken sweep gives one
    point, with the broken variables poisoned, so the body is still checked.
    The members are the product of the factors: a variable of its own, or the
    variables of one `zip`, whose members go in pairs."""
    factors: list[tuple[list[str], list[tuple[Bound, ...]]]] = []
    seen: dict[str, A.SweepAxis] = {}
    broken: dict[str, Bound] = {}
    zips_done: set[int] = set()
    for axis in d.sweep:
        if axis.zip is not None:
            if id(axis.zip) in zips_done:
                continue
            zips_done.add(id(axis.zip))
            group = [a for a in d.sweep if a.zip is axis.zip]
        else:
            group = [axis]
        fresh = []
        for a in group:
            if a.name in seen:
                ctx.diags.error("E0506", f"sweep variable `{a.name}` is used twice", a.name_pos.span(),
                                note("first here", seen[a.name].name_pos.span()))
            else:
                seen[a.name] = a
                fresh.append(a)
        members = None
        if len(fresh) == len(group):
            members = _zip_members(ctx, axis.zip, group) if axis.zip is not None else _axis_members(ctx, axis)
        if members is None:
            for a in group:
                broken[a.name] = poisoned(a.name_pos)
            continue
        factors.append(([a.name for a in group], members))
    first = {name: bound for names, members in factors for name, bound in zip(names, members[0])}
    if broken:
        return [{**first, **broken}], False
    if not factors:
        return [{}], True
    count = math.prod(len(members) for _, members in factors)
    if count > L.MAX_STAGE_INSTANCES:
        ctx.diags.error("E0507", f"the sweep of stage `{d.name}` makes {count} instances "
                        f"(at most {L.MAX_STAGE_INSTANCES})", d.name_pos.span(),
                        help_("each instance becomes a job; sweep fewer axes or fewer members"))
        return [first], False
    order = [name for names, _ in factors for name in names]
    return [dict(zip(order, itertools.chain.from_iterable(combo)))
            for combo in itertools.product(*[members for _, members in factors])], True


def _axis_members(ctx: Context, axis: A.SweepAxis, *, distinct: bool = True) -> list[tuple[Bound]] | None:
    """The members of one variable, within the limit and (unless it is one
    column of a zip, where only the pairs must differ) distinct; None when
    something was reported."""
    # Counted before the members are evaluated: a million of them is slow.
    written = len(axis.values.items) if isinstance(axis.values, A.ListV) else 0
    values = _axis_values(ctx, axis) if written <= L.MAX_SWEEP_MEMBERS else None
    members = len(values) if values is not None else written
    if members > L.MAX_SWEEP_MEMBERS:
        ctx.diags.error("E0507", f"sweep over `{axis.name}` has {members} members "
                        f"(at most {L.MAX_SWEEP_MEMBERS})", axis.values.pos.span(),
                        help_("each member becomes a job; sweep a coarser grid, or loop "
                              "inside one stage's command"))
        return None
    if values is None:
        return None
    dupes = _repeated([(b,) for b in values]) if distinct else []
    if dupes:
        ctx.diags.error("E0506", f"sweep over `{axis.name}` repeats {', '.join(dupes)}",
                        axis.values.pos.span(), help_("each member of a sweep must differ"))
        return None
    return [(b,) for b in values]


def _zip_members(ctx: Context, together: A.Zip, group: list[A.SweepAxis]) -> list[tuple[Bound, ...]] | None:
    """`(a, b) in zip(xs, ys)`: the i-th member pairs the i-th of each list."""
    call = together.values
    names = ", ".join(together.names)
    if not (isinstance(call, A.Call) and call.name == "zip") or call.kwargs:
        ctx.diags.error("E0575", f"the paired variables ({names}) go over `zip(...)`", call.pos.span(),
                        help_(f"write `({names}) in zip({', '.join(n + 's' for n in together.names)})`, "
                              "one list for each variable"))
        return None
    if len(call.args) != len(group):
        ctx.diags.error("E0575", f"`zip(...)` gives {len(call.args)} lists to {len(group)} variables "
                        f"({names})", call.pos.span(), help_("give one list for each variable, in order"))
        return None
    columns = [_axis_members(ctx, a, distinct=False) for a in group]
    if any(c is None for c in columns):
        return None
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        counted = ", ".join(f"`{a.name}` {len(c)}" for a, c in zip(group, columns))
        ctx.diags.error("E0574", f"`zip(...)` pairs lists of different lengths ({counted} members)",
                        call.pos.span(),
                        help_("members are paired first with first, second with second: give every "
                              f"list as many members; to take every combination, write "
                              f"`for {' in ..., '.join(together.names)} in ...` instead"))
        return None
    pairs = [tuple(b for (b,) in row) for row in zip(*columns)]
    dupes = _repeated(pairs)
    if dupes:
        ctx.diags.error("E0506", f"sweep over ({names}) repeats {', '.join(dupes)}", call.pos.span(),
                        help_("each member of a sweep must differ"))
        return None
    return pairs


def _repeated(members: list[tuple[Bound, ...]]) -> list[str]:
    """Members equal to an earlier one by value (`0.1` and `0.10`, `1h` and
    `60m`: numbers compare as numbers) or by text (`1` and `"1"` would name
    the same instance), as written."""
    seen: set = set()
    dupes: set[str] = set()
    for member in members:
        keys = {("value", tuple(_value_key(b) for b in member)), ("text", tuple(b.text for b in member))}
        if keys & seen:
            dupes.add(member[0].text if len(member) == 1 else "(" + ", ".join(b.text for b in member) + ")")
        seen |= keys
    return sorted(dupes)


def _value_key(b: Bound) -> tuple:
    kind = "number" if b.type[0] in ("int", "float") else b.type[0]
    return kind, b.value if isinstance(b.value, (str, int, float)) else repr(b.value)


def _axis_values(ctx: Context, axis: A.SweepAxis) -> list[Bound] | None:
    v = axis.values
    if isinstance(v, A.ListV):
        bounds = [infer(item, ctx.ev, ctx.params) for item in v.items]
        if any(b is BAD for b in bounds):
            return None
    elif is_range(v):
        members = range_members(ctx.ev, v, Scope({}, ctx.params))
        if members is BAD:
            return None
        bounds = [Bound(n, ("int",), str(n), v.pos) for n in members]
    elif isinstance(v, A.Call) and v.name == "zip":
        ctx.diags.error("E0575", "`zip(...)` pairs several variables", v.pos.span(),
                        help_(f"name one variable for each list: `for ({axis.name}, other) in zip(...)`"))
        return None
    elif isinstance(v, A.Ref) and len(v.names) == 1 and ctx.params.lookup(v.names[0]):
        bound = ctx.params.lookup(v.names[0])
        if bound.type == POISONED:
            ctx.skip()  # the param had an error
            return None
        if bound.type[0] != "list":
            ctx.diags.error("E0505", f"sweep over `{v.names[0]}`, which is not a list", v.pos.span())
            return None
        bounds = [Bound(x, bound.type[1], format_value(x), v.pos) for x in bound.value]
    else:
        ctx.diags.error("E0505", "a sweep goes over a list", v.pos.span(),
                        help_(f"write `for {axis.name} in [a, b, c]` or `range(N)`, or name a list param"))
        return None
    if not bounds:
        ctx.diags.error("E0505", f"sweep over `{axis.name}` has no members", v.pos.span())
        return None
    return bounds


def _lower_stage(ctx: Context, d: A.Stage) -> list[UnitDraft]:
    points, sound = _sweep_points(ctx, d)
    if not sound:
        draft = _lower_one(ctx, d, Scope(dict(points[0]), ctx.params), "instance", d.name, 0, {})
        draft.poisoned = True
        return [draft]
    drafts = []
    for index, point in enumerate(points):
        scope = Scope(dict(point), ctx.params)
        if point:
            label = ",".join(f"{k}={b.text}" for k, b in point.items())
            unit_id = f"{d.name}[{label}]"
        else:
            unit_id = d.name
        sweep = {k: b.value for k, b in point.items()}
        drafts.append(_lower_one(ctx, d, scope, "instance", unit_id, index, sweep))
    return drafts


def _bind_template(ctx: Context, call: A.Call, kind: str, scope: Scope) -> tuple[A.Template, Scope] | None:
    """The template and its parameters' values; None when the call names no
    usable template. A parameter with a bad or missing value is poisoned."""
    template = ctx.decls.by_name.get(call.name)
    if not isinstance(template, A.Template):
        other = ctx.decls.kind(call.name)
        if other is not None:
            ctx.diags.error("E0206", f"`{call.name}` is a {other}, not a template", call.name_pos.span())
        else:
            templates = [t.name for t in ctx.decls.of_kind(A.Template)]
            ctx.diags.error("E0206", f"unknown template `{call.name}`", call.name_pos.span(),
                            did_you_mean(call.name, templates) or choices(templates, "templates"))
        return None
    if template.kind != kind:
        ctx.diags.error("E0405", f"template `{template.name}` makes a {template.kind}, not a {kind}",
                        call.name_pos.span(), note("declared here", template.name_pos.span()))
        return None
    params = {p.name: p for p in template.params}
    given: dict[str, A.Value] = {}
    if len(call.args) > len(template.params):
        ctx.diags.error("E0404", f"`{template.name}` takes {len(template.params)} arguments, "
                        f"{len(call.args)} given", call.args[len(template.params)].pos.span())
    for p, arg in zip(template.params, call.args):
        given[p.name] = arg
    for kw in call.kwargs:
        if kw.name not in params:
            ctx.diags.error("E0402", f"template `{template.name}` has no parameter `{kw.name}`",
                            kw.name_pos.span(),
                            did_you_mean(kw.name, params) or choices(params, "parameters"))
            continue
        if kw.name in given:
            ctx.diags.error("E0402", f"argument `{kw.name}` is given twice", kw.name_pos.span())
            continue
        given[kw.name] = kw.value
    bounds: dict[str, Bound] = {}
    for p in template.params:
        bounds[p.name] = _template_argument(ctx, template, call, p, given.get(p.name), scope)
    return template, Scope(bounds, ctx.params)


def _template_argument(ctx: Context, template: A.Template, call: A.Call, p: A.TemplateParam,
                       given: A.Value | None, scope: Scope) -> Bound:
    t = user_type(ctx, p.type)
    if t is None:
        return poisoned(p.name_pos)
    if given is not None:
        value = ctx.ev.value(given, t, scope)
        source = given
    elif p.default is not None:
        value = ctx.ev.value(p.default, t, Scope({}, ctx.params))
        source = p.default
    else:
        ctx.diags.error("E0401", f"template `{template.name}` needs `{p.name}`", call.pos.span(),
                        help_(f"add `{p.name} = ...` ({p.type})"),
                        note("the parameter is declared here", p.name_pos.span()))
        return poisoned(p.name_pos)
    if value is BAD:
        return poisoned(p.name_pos)
    text = source.text if isinstance(source, (A.Num, A.Quantity)) else format_value(value)
    if isinstance(source, A.Ref):
        bound = scope.lookup(source.names[0])
        text = bound.text if bound else text
    return Bound(value, t, text, p.name_pos)


def _lower_one(ctx: Context, d, scope: Scope, kind: str, unit_id: str, index: int,
               sweep: dict, *, label: str | None = None) -> UnitDraft:
    """One stage instance or service. Every part is checked even when an
    earlier part had an error; such a draft is marked poisoned. With a
    `label`, `d` is the body of an unused template, checked on its own."""
    mark = ctx.mark()
    spec = S.STAGE if kind == "instance" else S.SERVICE
    noun = "stage" if kind == "instance" else "service"
    what = label or f"{noun} `{d.name}`"
    layers: list[tuple[list[A.Field], list[A.Port], Scope]] = []
    template_name = None
    ports_unknown = False
    if d.template is not None:
        bound = _bind_template(ctx, d.template, noun, scope)
        if bound is None:
            ports_unknown = True  # the template's fields and ports are not known
        else:
            template, tscope = bound
            template_name = template.name
            layers.append((template.body.fields, template.body.ports, tscope))
    layers.append((d.body.fields, d.body.ports, scope))

    merged: dict[str, tuple[object, Scope, A.Field]] = {}
    for fields, _, layer_scope in layers:
        values = check_fields(ctx, fields, spec, layer_scope, what=what, at=d.name_pos,
                              required=False)
        for f in fields:
            if f.name in values:
                merged[f.name] = (values[f.name], layer_scope, f)
    ports: dict[tuple[str, str], tuple[A.Port, Scope]] = {}
    for _, layer_ports, layer_scope in layers:
        seen_here: set[tuple[str, str]] = set()
        for p in layer_ports:
            key = (p.direction, p.name)
            if key in seen_here:
                ctx.diags.error("E0311", f"`{p.direction} {p.name}` is declared twice in {what}",
                                p.name_pos.span())
                continue
            seen_here.add(key)
            ports[key] = (p, layer_scope)
    if kind == "service":
        for (direction, name), (p, _) in ports.items():
            if direction == "out":
                ctx.diags.error("E0310", "a service has no outputs", p.name_pos.span(),
                                help_("services are long-running; a stage produces files"))
    names = {n for (_, n) in ports}
    both = sorted(n for n in names if ("in", n) in ports and ("out", n) in ports)
    for n in both:
        p = ports[("out", n)][0]
        ctx.diags.error("E0311", f"`{n}` is both an input and an output of {what}",
                        p.name_pos.span())

    fields = _unit_fields(ctx, d, kind, merged, ports, complete=not ports_unknown and label is None)
    outputs = []
    bad_outputs = set()
    inputs = []
    # In source order. A body's own ports are already (the parser keeps
    # them so): only a template's, from elsewhere, need sorting in.
    in_order = sorted(ports.items(), key=lambda kv: _port_order(kv[1][0])) if len(layers) > 1 else ports.items()
    for (direction, name), (p, pscope) in in_order:
        if direction == "in":
            inputs.append((p, pscope))
            continue
        out = _output(ctx, p, pscope)
        if out is None:
            bad_outputs.add(name)
        else:
            outputs.append(out)
    after = []
    if "after" in merged:
        raw = merged["after"][0]
        items = raw.items if isinstance(raw, A.ListV) else [raw]
        for item in items:
            if isinstance(item, A.Ref) and len(item.names) == 1:
                after.append(item)
            else:
                ctx.diags.error("E0303", "`after` lists stage or service names", item.pos.span())
    return UnitDraft(kind=kind, id=unit_id, group=d.name, decl=d, fields=fields, outputs=outputs,
                     inputs=inputs, after=after, index=index, sweep=sweep, template=template_name,
                     poisoned=ctx.failed_since(mark), bad_outputs=frozenset(bad_outputs) or _NONE_BAD,
                     ports_unknown=ports_unknown)


def _port_order(p: A.Port):
    return (p.pos.file, p.pos.line, p.pos.column)


def _unit_fields(ctx: Context, d, kind: str, merged: dict, ports: dict, *, complete: bool) -> UnitFields:
    """The IR fields of a unit. A part with an error is reported and left at
    its default, and the rest is still checked. Without `complete` (the
    template could not be used) nothing can be called missing or undeclared."""
    noun = "stage" if kind == "instance" else "service"
    plain = {name: value for name, (value, _, _) in merged.items()}
    field_of = {name: f for name, (_, _, f) in merged.items()}
    for name in ("cpus", "replicas"):
        if name in plain:
            positive(ctx, plain, name, [field_of[name]])
    if "retries" in plain:
        positive(ctx, plain, "retries", [field_of["retries"]], zero_ok=True)
    if "port" in plain and not 1 <= plain["port"] <= 65535:
        ctx.diags.error("E0306", "`port` must be between 1 and 65535", field_of["port"].value.pos.span())
        plain.pop("port")
    if "health" in plain and not (str(plain["health"]).startswith("/") or plain["health"] == "tcp"):
        ctx.diags.error("E0306", "`health` is an HTTP path starting with `/`, or \"tcp\"",
                        field_of["health"].value.pos.span(),
                        help_('write `health = "/healthz"` (HTTP), or `health = "tcp"` for a port that speaks '
                              'another protocol (gRPC, a database)'))
    for name in ("memory", "time"):
        if name in plain and plain[name] <= 0:
            ctx.diags.error("E0306", f"`{name}` must be more than zero", field_of[name].value.pos.span())
            plain.pop(name)

    command = _command(ctx, d, noun, merged["run"], ports, complete) if "run" in merged else []
    if complete and kind == "instance" and "run" not in merged:
        ctx.diags.error("E0302", f"stage `{d.name}` has no `run`", d.name_pos.span(),
                        help_('add `run = "the command"`'))
    if complete and kind == "service" and command == [] and "image" not in plain:
        ctx.diags.error("E0302", f"service `{d.name}` has neither `image` nor `run`", d.name_pos.span(),
                        help_("give the image to serve, the command to start, or both"))

    resources = ctx.one(
        ir.Resources, cpus=plain.get("cpus", S.DEFAULT_CPUS), memory=plain.get("memory", S.DEFAULT_MEMORY),
        gpus=plain.get("gpus"), time=plain.get("time", S.DEFAULT_TIME), nodes=plain.get("nodes", 1),
    )
    out = UnitFields(
        image=plain.get("image"), command=command or [], resources=resources,
        env=_env(ctx, merged.get("env")),
        on=_placement(ctx, merged["on"][0], "on") if "on" in merged else [],
        not_on=_placement(ctx, merged["not_on"][0], "not_on") if "not_on" in merged else [],
    )
    if kind == "instance":
        out.estimate = _estimate(ctx, merged.get("estimate"), resources)
        out.retries = plain.get("retries", 0)
        out.software, out.slurm = lower_stage_options(ctx, merged, out.image, resources.time)
        out.launch = multinode.launch(ctx, plain, field_of)
        out.shapes = multinode.shapes(ctx, merged.get("shapes"), resources, out.estimate,
                                      lambda entry, res: _estimate(ctx, entry, res),
                                      lambda raw, what: _placement(ctx, raw, what))
    else:
        if complete and "port" not in merged:
            ctx.diags.error("E0302", f"service `{d.name}` has no `port`", d.name_pos.span(),
                            help_("add `port = 8080`"))
        out.replicas, out.port, out.health = plain.get("replicas", 1), plain.get("port", 0), plain.get("health")
        out.lifetime = plain.get("lifetime")
        out.lifetime_span = field_of["lifetime"].value.pos.span() if "lifetime" in plain else None
    return out


def _command(ctx: Context, d, noun: str, entry, ports: dict, complete: bool) -> list | None:
    """`run` as IR parts, or None when it has an error. Port references are
    checked on the syntax, so an undeclared port is reported even when
    another `${...}` has an error."""
    _, scope, f = entry
    undeclared = _check_port_refs(ctx, d, noun, f.value, ports, complete)
    parts = ctx.ev.string(f.value, scope, allow_ports=True, shell=True)
    if parts is BAD:
        return None
    command: list = []
    site_positions = []  # where each value or port stands, for E0511
    for part in parts:
        if isinstance(part, tuple) and part[0] == "value":
            _, name, text, pos = part
            command.append(ir.Value.trusted(name=name, value=text, span=pos.span()))
            site_positions.append(pos)
        elif isinstance(part, tuple) and part[0] in ("in", "out"):
            direction, name, pos = part
            if (direction, name) not in undeclared:
                command.append(ir.PortRef.trusted(direction=direction, name=name))
                site_positions.append(pos)
        elif command and isinstance(command[-1], ir.Text):
            command[-1] = ir.Text.trusted(text=command[-1].text + part)
        else:
            command.append(ir.Text.trusted(text=part))
    command = trim_command(command)
    if not _command_reads(ctx, command, site_positions, f):
        return None
    return command


def _command_reads(ctx: Context, command: list, site_positions: list, f) -> bool:
    """The back ends can read the command and pass each value to it (a
    port's path is not known yet: a stand-in path is checked)."""
    pieces = [p.text if isinstance(p, ir.Text)
              else shell_context.Site(f"VALUE_{p.name}", (p.value,)) if isinstance(p, ir.Value)
              else shell_context.Site(f"{p.direction}_{p.name}", ("path",))
              for p in command]
    run = f.value.pos.span()
    if any(d.span and d.span.file == run.file and run.line <= d.span.line <= run.end_line
           for d in ctx.diags.items):
        return True  # the string itself is wrong (E0501, ...): said already
    key = ("command", tuple(pieces))
    if key in ctx.shared:
        return True  # the same text and values as a command read before
    try:
        shell_context.render(pieces)
        ctx.shared[key] = True
    except shell_context.ShellSyntaxError as error:
        ctx.diags.error("E0510", f"mlc cannot read this command: {error}", run,
                        help_("mlc reads the shell text of `run` to pass each `${...}` safely; "
                              "write it so bash would accept it"))
        return False
    except shell_context.SiteError as error:
        ctx.diags.error("E0511", error.message, site_positions[error.index].span(), help_(error.hint))
        return False
    return True


def _check_port_refs(ctx: Context, d, noun: str, value, ports: dict, complete: bool) -> set:
    """Reports every `${in.x}` / `${out.x}` naming no declared port; returns them."""
    undeclared = set()
    pieces = value.pieces if isinstance(value, A.Str) else []
    for piece in pieces:
        if not isinstance(piece, A.Interp) or len(piece.path) != 2 or piece.path[0] not in ("in", "out"):
            continue
        direction, name = piece.path
        if (direction, name) in ports:
            continue
        undeclared.add((direction, name))
        if not complete:
            ctx.skip()  # the port may be the template's
            continue
        declared = [n for (dr, n) in ports if dr == direction]
        ctx.diags.error("E0504", f"{noun} `{d.name}` has no {'input' if direction == 'in' else 'output'} `{name}`",
                        piece.pos.span(),
                        did_you_mean(name, declared) or help_(f"declare it: `{direction} {name} = ...`"))
    return undeclared


def _env(ctx: Context, entry) -> dict:
    """Environment variables; a bad entry is reported and left out."""
    if entry is None:
        return {}
    raw, scope, f = entry
    if not isinstance(raw, A.MapV):
        ctx.diags.error("E0303", f"expected a map of environment variables, found {ctx.ev.describe(raw)}",
                        raw.pos.span(), help_('write `env = {NAME: "value", TOKEN: some_secret}`'))
        return {}
    out: dict[str, ir.EnvValue] = {}
    for item in raw.items:
        if not item.key.replace("_", "a").isalnum() or item.key[0].isdigit():
            ctx.diags.error("E0306", f"`{item.key}` is not an environment variable name", item.key_pos.span(),
                            help_("letters, digits and `_`, not starting with a digit"))
            continue
        v = item.value
        bound = scope.lookup(v.dotted) if isinstance(v, A.Ref) else None
        if isinstance(v, A.Ref) and len(v.names) == 1 and ctx.decls.kind(v.names[0]) == "secret" \
                and bound is None:
            if v.names[0] in ctx.poisoned:
                ctx.skip()  # the secret had an error: where it can be delivered is unknown
            out[item.key] = ir.SecretEnv(secret=v.names[0])
            continue
        if bound is not None and bound.type == POISONED:
            ctx.skip()
            continue
        if isinstance(v, A.Str) or bound is not None:
            text = ctx.ev.string(v, scope) if isinstance(v, A.Str) else bound.text
        elif isinstance(v, (A.Num, A.Bool, A.Quantity)):
            text = v.text if isinstance(v, (A.Num, A.Quantity)) else format_value(v.value)
        else:
            ctx.diags.error("E0303", f"an environment value is a string, a number or a secret, "
                            f"found {ctx.ev.describe(v)}", v.pos.span())
            continue
        if text is BAD:
            continue
        out[item.key] = ir.LiteralEnv(value=text)
    return dict(sorted(out.items()))


def _placement(ctx: Context, raw, what: str) -> list[str]:
    """`on` / `not_on`: sites and pools; each bad item is reported and left out."""
    items = raw.items if isinstance(raw, A.ListV) else [raw]
    out = []
    for item in items:
        if not isinstance(item, A.Ref) or len(item.names) > 2:
            ctx.diags.error("E0303", f"`{what}` names a site or a pool (`site.pool`)", item.pos.span())
            continue
        if ctx.is_poisoned(item.dotted):
            ctx.skip()  # the site or pool had an error, already reported
            continue
        site = item.names[0]
        if site not in ctx.site_kinds:
            kind = ctx.decls.kind(site)
            ctx.diags.error("E0204", f"`{what}`: " + (f"`{site}` is a {kind}, not a site" if kind else
                            f"unknown site `{site}`"), item.pos.span(),
                            did_you_mean(site, ctx.site_kinds) or choices(ctx.site_kinds, "sites"))
            continue
        if len(item.names) == 2 and item.names[1] not in ctx.pools.get(site, []):
            ctx.diags.error("E0205", f"site `{site}` has no pool `{item.names[1]}`", item.pos.span(),
                            did_you_mean(item.names[1], ctx.pools[site]) or choices(ctx.pools[site], "pools"))
            continue
        out.append(item.dotted)
    return sorted(set(out))


def _estimate(ctx: Context, entry, resources: ir.Resources) -> ir.Estimate:
    """A duration, or durations by GPU model, site or pool; every bad key is
    reported, and the good ones are kept."""
    default = ctx.one(ir.Estimate, default=resources.time * S.DEFAULT_ESTIMATE_FRACTION, stated=False)
    if entry is None:
        return default
    raw, scope, f = entry
    if isinstance(raw, A.MapV):
        by_key = {}
        valid = sorted(ctx.gpu_types | set(ctx.site_kinds) |
                       {f"{s}.{p}" for s, ps in ctx.pools.items() for p in ps})
        for item in raw.items:
            if item.key not in valid and (ctx.is_poisoned(item.key) or
                                          ("." not in item.key and not ctx.gpu_types_complete)):
                ctx.skip()  # may name a site, pool or GPU model whose declaration had an error
                continue
            if item.key not in valid:
                ctx.diags.error("E0306", f"estimate key `{item.key}` is not a GPU model, site or pool",
                                item.key_pos.span(),
                                did_you_mean(item.key, valid) or choices(valid, "keys"))
                continue
            seconds = ctx.ev.value(item.value, S.DURATION, scope)
            if seconds is not BAD:
                by_key[item.key] = seconds
        if not raw.items:
            ctx.diags.error("E0306", "an empty estimate", raw.pos.span())
        if not by_key:
            return default
        return ir.Estimate(default=max(by_key.values()), by_key=dict(sorted(by_key.items())))
    seconds = ctx.ev.value(raw, S.DURATION, scope)
    return default if seconds is BAD else ctx.one(ir.Estimate, default=seconds)


def _output(ctx: Context, p: A.Port, scope: Scope) -> ir.Output | None:
    path = _path_call(ctx, p, scope, allow_size=True)
    if path is None:
        return None
    kind, text, size, publish = path
    return ir.Output.trusted(name=p.name, path=text, kind=kind, size=size, publish=publish, span=p.name_pos.span())


def _path_call(ctx: Context, p: A.Port, scope: Scope, *, allow_size: bool):
    v = p.value
    if not (isinstance(v, A.Call) and v.name in ("file", "dir")):
        what = "an output" if p.direction == "out" else "an input"
        ctx.diags.error("E0310", f"{what} is declared with `file(\"path\")` or `dir(\"path\")`",
                        v.pos.span(),
                        help_(f'write `{p.direction} {p.name} = file("path", size = 1GB)`'))
        return None
    if len(v.args) != 1:
        ctx.diags.error("E0310", f"`{v.name}(...)` takes one path", v.pos.span())
        return None
    text = _port_path(ctx, p, v, scope)
    size, publish = 0, None
    for kw in v.kwargs:  # checked even when the path is bad: an independent mistake
        if kw.name == "publish" and p.direction == "out":
            publish = publish_uri(ctx, kw, scope)
            text = None if publish is None else text
            continue
        if kw.name != "size" or not allow_size:
            ctx.diags.error("E0310", f"`{v.name}(...)` has no argument `{kw.name}`", kw.name_pos.span(),
                            help_("it takes the path, `size = ...` and, for an output, `publish = \"s3://...\"`"))
            text = None
            continue
        value = ctx.ev.value(kw.value, S.SIZE, scope)
        if value is BAD:
            text = None
            continue
        size = value
    if text is None:
        return None
    return v.name, text.rstrip("/"), size, publish


def _port_path(ctx: Context, p: A.Port, call: A.Call, scope: Scope) -> str | None:
    """The path of `file(...)`/`dir(...)`: relative, inside the work tree."""
    text = ctx.ev.string(call.args[0], scope)
    # A URI shows in the literal start even when a `${...}` after it is bad.
    seen = text if text is not BAD else _literal_head(call.args[0])
    scheme = uri_scheme(seen)
    if scheme is not None:
        _report_uri(ctx, p, call, seen, scheme)
        return None
    if text is BAD:
        return None
    normal = work_path(text)
    if normal is None and p.direction == "in":
        ctx.diags.error("E0581", f"`{text}` is not a path inside the project", call.args[0].pos.span(),
                        help_("an input file is relative to the experiment's folder and stays inside it (no "
                              "absolute path, no `..`); data that lives elsewhere is a `dataset`"))
        return None
    if normal is None:
        ctx.diags.error("E0310", f"`{text}` is not a relative path inside the work tree",
                        call.args[0].pos.span(),
                        help_("paths are relative to the site's work directory, without `..`"))
        return None
    long_name = overlong_name(normal)
    if long_name is not None:
        ctx.diags.error("E0310", f"a name in this path is {len(long_name.encode('utf-8'))} bytes long",
                        call.args[0].pos.span(),
                        help_(f"file systems take names of at most {NAME_MAX} bytes; shorten "
                              f"`{long_name[:20]}...`"))
        return None
    return normal


def _literal_head(value) -> str:
    """The text of a string before its first `${...}`."""
    pieces = value.pieces if isinstance(value, A.Str) else []
    return pieces[0] if pieces and isinstance(pieces[0], str) else ""


def _report_uri(ctx: Context, p: A.Port, call: A.Call, text: str, scheme: str) -> None:
    """Ports are paths in a site's work tree; data that lives at a URI is a
    data set, which an input then names."""
    declare = f'declare `dataset NAME {{ uri = "{text}"; at = SITE }}`'
    if p.direction == "out":
        publish = (f", and add `publish = \"{text}\"` to copy the output there once it is written"
                   if scheme in STORES else "")
        hint = (f"outputs are written in the site's work directory, and mlc moves them between "
                f"sites: write a relative path such as `{call.name}(\"{p.name}\")`{publish}; for data "
                f"that already lives at this {scheme} URI, {declare}")
    else:
        hint = f"{declare} and write `in {p.name} = NAME`"
    ctx.diags.error("E0314", f"`{text}` is a URI, not a relative path",
                    call.args[0].pos.span(), help_(hint))


def source_input(ctx: Context, p: A.Port, scope: Scope) -> ir.Output | None:
    """`in cfg = file("configs/a.py")`: a file of the user's project."""
    path = _path_call(ctx, p, scope, allow_size=True)
    if path is None:
        return None
    kind, text, size, _ = path
    return ir.Output.trusted(name=p.name, path=text, kind=kind, size=size, span=p.value.pos.span())
