"""Lowering of stages and services: template instantiation, sweep expansion,
resources, commands, environment and pins. Inputs are bound later, by
graph.py, once every stage's outputs are known."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from .. import ir
from ..diagnostics import choices, did_you_mean, help_, note
from . import ast as A
from . import limits as L
from . import schema as S
from .context import Context, check_fields, positive
from .evaluate import BAD, Bound, Scope, format_value, infer
from .platform import user_type


@dataclass
class UnitDraft:
    """A stage instance or service before its inputs are bound."""

    kind: str  # "instance" | "service"
    id: str
    group: str
    decl: A.Stage | A.Service
    fields: dict  # evaluated IR-ready values
    outputs: list[ir.Output]
    inputs: list[tuple[A.Port, Scope]]  # bound by graph.py
    after: list[A.Ref] = field(default_factory=list)
    index: int = 0
    sweep: dict = field(default_factory=dict)
    template: str | None = None


def lower_units(ctx: Context) -> tuple[list[UnitDraft], list[ir.StageGroup]]:
    drafts: list[UnitDraft] = []
    groups: list[ir.StageGroup] = []
    for d in ctx.decls.order:
        if isinstance(d, A.Stage):
            members = _lower_stage(ctx, d)
            drafts.extend(members)
            if members:
                groups.append(ir.StageGroup(name=d.name, instances=[m.id for m in members],
                                            sweep_axes=[a.name for a in d.sweep],
                                            span=d.name_pos.span()))
        elif isinstance(d, A.Service):
            draft = _lower_one(ctx, d, Scope({}, ctx.params), "service", d.name, 0, {})
            if draft is not None:
                drafts.append(draft)
    return drafts, groups


def _sweep_points(ctx: Context, d: A.Stage) -> list[dict[str, Bound]] | None:
    axes: list[tuple[str, list[Bound]]] = []
    seen: dict[str, A.SweepAxis] = {}
    ok = True
    for axis in d.sweep:
        if axis.name in seen:
            ctx.diags.error("E0506", f"sweep variable `{axis.name}` is used twice", axis.name_pos.span(),
                            note("first here", seen[axis.name].name_pos.span()))
            ok = False
            continue
        seen[axis.name] = axis
        # Counted before the members are evaluated: a million of them is slow.
        written = len(axis.values.items) if isinstance(axis.values, A.ListV) else 0
        values = _axis_values(ctx, axis) if written <= L.MAX_SWEEP_MEMBERS else None
        members = len(values) if values is not None else written
        if members > L.MAX_SWEEP_MEMBERS:
            ctx.diags.error("E0507", f"sweep over `{axis.name}` has {members} members "
                            f"(at most {L.MAX_SWEEP_MEMBERS})", axis.values.pos.span(),
                            help_("each member becomes a job; sweep a coarser grid, or loop "
                                  "inside one stage's command"))
            ok = False
            continue
        if values is None:
            ok = False
            continue
        dupes = _repeated(values)
        if dupes:
            ctx.diags.error("E0506", f"sweep over `{axis.name}` repeats {', '.join(dupes)}",
                            axis.values.pos.span(), help_("each member of a sweep must differ"))
            ok = False
            continue
        axes.append((axis.name, values))
    if not ok:
        return None
    if not axes:
        return [{}]
    count = math.prod(len(a[1]) for a in axes)
    if count > L.MAX_STAGE_INSTANCES:
        ctx.diags.error("E0507", f"the sweep of stage `{d.name}` makes {count} instances "
                        f"(at most {L.MAX_STAGE_INSTANCES})", d.name_pos.span(),
                        help_("each instance becomes a job; sweep fewer axes or fewer members"))
        return None
    return [dict(zip([a[0] for a in axes], combo)) for combo in itertools.product(*[a[1] for a in axes])]


def _repeated(values: list[Bound]) -> list[str]:
    """Members equal to an earlier one by value (`0.1` and `0.10`, `1h` and
    `60m`: numbers compare as numbers) or by text (`1` and `"1"` would name
    the same instance), as written."""
    seen: set = set()
    dupes: set[str] = set()
    for b in values:
        kind = "number" if b.type[0] in ("int", "float") else b.type[0]
        keys = {(kind, b.value if isinstance(b.value, (str, int, float)) else repr(b.value)),
                ("text", b.text)}
        if keys & seen:
            dupes.add(b.text)
        seen |= keys
    return sorted(dupes)


def _axis_values(ctx: Context, axis: A.SweepAxis) -> list[Bound] | None:
    v = axis.values
    if isinstance(v, A.ListV):
        bounds = [infer(item, ctx.ev, ctx.params) for item in v.items]
        if any(b is BAD for b in bounds):
            return None
    elif isinstance(v, A.Ref) and len(v.names) == 1 and ctx.params.lookup(v.names[0]):
        bound = ctx.params.lookup(v.names[0])
        if bound.type[0] != "list":
            ctx.diags.error("E0505", f"sweep over `{v.names[0]}`, which is not a list", v.pos.span())
            return None
        bounds = [Bound(x, bound.type[1], format_value(x), v.pos) for x in bound.value]
    else:
        ctx.diags.error("E0505", "a sweep goes over a list", v.pos.span(),
                        help_(f"write `for {axis.name} in [a, b, c]`, or name a list param"))
        return None
    if not bounds:
        ctx.diags.error("E0505", f"sweep over `{axis.name}` has no members", v.pos.span())
        return None
    return bounds


def _lower_stage(ctx: Context, d: A.Stage) -> list[UnitDraft]:
    points = _sweep_points(ctx, d)
    if points is None:
        return []
    drafts = []
    for index, point in enumerate(points):
        scope = Scope(dict(point), ctx.params)
        if point:
            label = ",".join(f"{k}={b.text}" for k, b in point.items())
            unit_id = f"{d.name}[{label}]"
        else:
            unit_id = d.name
        sweep = {k: b.value for k, b in point.items()}
        draft = _lower_one(ctx, d, scope, "instance", unit_id, index, sweep)
        if draft is not None:
            drafts.append(draft)
    return drafts


def _bind_template(ctx: Context, call: A.Call, kind: str, scope: Scope) -> tuple[A.Template, Scope] | None:
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
    ok = True
    if len(call.args) > len(template.params):
        ctx.diags.error("E0404", f"`{template.name}` takes {len(template.params)} arguments, "
                        f"{len(call.args)} given", call.args[len(template.params)].pos.span())
        ok = False
    for p, arg in zip(template.params, call.args):
        given[p.name] = arg
    for kw in call.kwargs:
        if kw.name not in params:
            ctx.diags.error("E0402", f"template `{template.name}` has no parameter `{kw.name}`",
                            kw.name_pos.span(),
                            did_you_mean(kw.name, params) or choices(params, "parameters"))
            ok = False
            continue
        if kw.name in given:
            ctx.diags.error("E0402", f"argument `{kw.name}` is given twice", kw.name_pos.span())
            ok = False
            continue
        given[kw.name] = kw.value
    bounds: dict[str, Bound] = {}
    for p in template.params:
        t = user_type(ctx, p.type)
        if t is None:
            ok = False
            continue
        if p.name in given:
            value = ctx.ev.value(given[p.name], t, scope)
            source = given[p.name]
        elif p.default is not None:
            value = ctx.ev.value(p.default, t, Scope({}, ctx.params))
            source = p.default
        else:
            ctx.diags.error("E0401", f"template `{template.name}` needs `{p.name}`", call.pos.span(),
                            help_(f"add `{p.name} = ...` ({p.type})"),
                            note("the parameter is declared here", p.name_pos.span()))
            ok = False
            continue
        if value is BAD:
            ok = False
            continue
        text = source.text if isinstance(source, (A.Num, A.Quantity)) else format_value(value)
        if isinstance(source, A.Ref):
            bound = scope.lookup(source.names[0])
            text = bound.text if bound else text
        bounds[p.name] = Bound(value, t, text, p.name_pos)
    if not ok:
        return None
    return template, Scope(bounds, ctx.params)


def _lower_one(ctx: Context, d, scope: Scope, kind: str, unit_id: str, index: int,
               sweep: dict) -> UnitDraft | None:
    spec = S.STAGE if kind == "instance" else S.SERVICE
    noun = "stage" if kind == "instance" else "service"
    layers: list[tuple[list[A.Field], list[A.Port], Scope]] = []
    template_name = None
    if d.template is not None:
        bound = _bind_template(ctx, d.template, noun, scope)
        if bound is None:
            return None
        template, tscope = bound
        template_name = template.name
        layers.append((template.body.fields, template.body.ports, tscope))
    layers.append((d.body.fields, d.body.ports, scope))

    merged: dict[str, tuple[object, Scope, A.Field]] = {}
    for fields, _, layer_scope in layers:
        values = check_fields(ctx, fields, spec, layer_scope, what=f"{noun} `{d.name}`",
                              at=d.name_pos, required=False)
        for f in fields:
            if f.name in values:
                merged[f.name] = (values[f.name], layer_scope, f)
    ports: dict[tuple[str, str], tuple[A.Port, Scope]] = {}
    for _, layer_ports, layer_scope in layers:
        seen_here: set[tuple[str, str]] = set()
        for p in layer_ports:
            key = (p.direction, p.name)
            if key in seen_here:
                ctx.diags.error("E0311", f"`{p.direction} {p.name}` is declared twice in {noun} `{d.name}`",
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
        ctx.diags.error("E0311", f"`{n}` is both an input and an output of {noun} `{d.name}`",
                        p.name_pos.span())

    fields = _unit_fields(ctx, d, kind, merged, ports)
    if fields is None:
        return None
    outputs = []
    for (direction, name), (p, pscope) in sorted(ports.items(), key=lambda kv: _port_order(kv[1][0])):
        if direction == "out":
            out = _output(ctx, p, pscope)
            if out is not None:
                outputs.append(out)
    inputs = [(p, s) for (direction, _), (p, s) in sorted(ports.items(), key=lambda kv: _port_order(kv[1][0]))
              if direction == "in"]
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
                     inputs=inputs, after=after, index=index, sweep=sweep, template=template_name)


def _port_order(p: A.Port):
    return (p.pos.file, p.pos.line, p.pos.column)


def _unit_fields(ctx: Context, d, kind: str, merged: dict, ports: dict) -> dict | None:
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
    if "health" in plain and not str(plain["health"]).startswith("/"):
        ctx.diags.error("E0306", "`health` is an HTTP path starting with `/`",
                        field_of["health"].value.pos.span(), help_('write `health = "/healthz"`'))
    for name in ("memory", "time"):
        if name in plain and plain[name] <= 0:
            ctx.diags.error("E0306", f"`{name}` must be more than zero", field_of[name].value.pos.span())
            plain.pop(name)

    command: list = []
    if "run" in merged:
        value, scope, f = merged["run"]
        parts = ctx.ev.string(f.value, scope, allow_ports=True, shell=True)
        if parts is BAD:
            return None
        for part in parts:
            if isinstance(part, tuple):
                direction, name, pos = part
                if (direction, name) not in ports:
                    declared = [n for (dr, n) in ports if dr == direction]
                    ctx.diags.error("E0504", f"{noun} `{d.name}` has no {'input' if direction == 'in' else 'output'} `{name}`",
                                    pos.span(),
                                    did_you_mean(name, declared) or help_(f"declare it: `{direction} {name} = ...`"))
                    return None
                command.append(ir.PortRef(direction=direction, name=name))
            elif command and isinstance(command[-1], ir.Text):
                command[-1] = ir.Text(text=command[-1].text + part)
            else:
                command.append(ir.Text(text=part))
        command = _trim_command(command)
    elif kind == "instance":
        ctx.diags.error("E0302", f"stage `{d.name}` has no `run`", d.name_pos.span(),
                        help_('add `run = "the command"`'))
        return None
    if kind == "service" and not command and "image" not in plain:
        ctx.diags.error("E0302", f"service `{d.name}` has neither `image` nor `run`", d.name_pos.span(),
                        help_("give the image to serve, the command to start, or both"))
        return None

    resources = ir.Resources(
        cpus=plain.get("cpus", S.DEFAULT_CPUS), memory=plain.get("memory", S.DEFAULT_MEMORY),
        gpus=plain.get("gpus"), time=plain.get("time", S.DEFAULT_TIME),
    )
    env = _env(ctx, merged.get("env"))
    if env is None:
        return None
    pins = {}
    for name in ("on", "not_on"):
        pins[name] = _placement(ctx, merged[name][0], name) if name in merged else []
        if pins[name] is None:
            return None
    out = {
        "image": plain.get("image"), "command": command, "resources": resources, "env": env,
        "on": pins["on"], "not_on": pins["not_on"],
    }
    if kind == "instance":
        estimate = _estimate(ctx, merged.get("estimate"), resources)
        if estimate is None:
            return None
        out.update(estimate=estimate, retries=plain.get("retries", 0))
    else:
        if "port" not in plain:
            if "port" not in merged:
                ctx.diags.error("E0302", f"service `{d.name}` has no `port`", d.name_pos.span(),
                                help_("add `port = 8080`"))
            return None
        out.update(replicas=plain.get("replicas", 1), port=plain["port"], health=plain.get("health"))
    return out


def _trim_command(parts: list) -> list:
    """Drop the blank lines and common indentation a triple-quoted `run`
    picks up from the source layout."""
    if not parts or not all(isinstance(p, ir.Text) for p in parts[:1]):
        return parts
    first = parts[0].text.lstrip("\n")
    parts = [ir.Text(text=first)] + parts[1:] if first else parts[1:]
    if parts and isinstance(parts[-1], ir.Text):
        last = parts[-1].text.rstrip()
        parts = parts[:-1] + ([ir.Text(text=last)] if last else [])
    text_lines = []
    for p in parts:
        if isinstance(p, ir.Text):
            text_lines.extend(p.text.split("\n"))
    indents = [len(line) - len(line.lstrip(" ")) for line in text_lines if line.strip()]
    indent = min(indents) if indents else 0
    if indent == 0:
        return parts
    out = []
    for i, p in enumerate(parts):
        if not isinstance(p, ir.Text):
            out.append(p)
            continue
        lines = p.text.split("\n")
        start = 0 if i == 0 else 1  # text after a port continues its line
        lines = lines[:start] + [line[indent:] if line[:indent].isspace() else line.lstrip(" ")
                                 for line in lines[start:]]
        if i == 0:
            lines[0] = lines[0][indent:] if lines[0][:indent].isspace() else lines[0]
        out.append(ir.Text(text="\n".join(lines)))
    return out


def _env(ctx: Context, entry) -> dict | None:
    if entry is None:
        return {}
    raw, scope, f = entry
    if not isinstance(raw, A.MapV):
        ctx.diags.error("E0303", f"expected a map of environment variables, found {ctx.ev.describe(raw)}",
                        raw.pos.span(), help_('write `env = {NAME: "value", TOKEN: some_secret}`'))
        return None
    out: dict[str, ir.EnvValue] = {}
    ok = True
    for item in raw.items:
        if not item.key.replace("_", "a").isalnum() or item.key[0].isdigit():
            ctx.diags.error("E0306", f"`{item.key}` is not an environment variable name", item.key_pos.span(),
                            help_("letters, digits and `_`, not starting with a digit"))
            ok = False
            continue
        v = item.value
        if isinstance(v, A.Ref) and len(v.names) == 1 and ctx.decls.kind(v.names[0]) == "secret" \
                and scope.lookup(v.names[0]) is None:
            out[item.key] = ir.SecretEnv(secret=v.names[0])
            continue
        if isinstance(v, A.Str) or (isinstance(v, A.Ref) and scope.lookup(v.dotted) is not None):
            text = ctx.ev.string(v, scope) if isinstance(v, A.Str) else scope.lookup(v.dotted).text
        elif isinstance(v, (A.Num, A.Bool, A.Quantity)):
            text = v.text if isinstance(v, (A.Num, A.Quantity)) else format_value(v.value)
        else:
            ctx.diags.error("E0303", f"an environment value is a string, a number or a secret, "
                            f"found {ctx.ev.describe(v)}", v.pos.span())
            ok = False
            continue
        if text is BAD:
            ok = False
            continue
        out[item.key] = ir.LiteralEnv(value=text)
    return dict(sorted(out.items())) if ok else None


def _placement(ctx: Context, raw, what: str) -> list[str] | None:
    items = raw.items if isinstance(raw, A.ListV) else [raw]
    out = []
    for item in items:
        if not isinstance(item, A.Ref) or len(item.names) > 2:
            ctx.diags.error("E0303", f"`{what}` names a site or a pool (`site.pool`)", item.pos.span())
            return None
        site = item.names[0]
        if site not in ctx.site_kinds:
            kind = ctx.decls.kind(site)
            ctx.diags.error("E0204", f"`{what}`: " + (f"`{site}` is a {kind}, not a site" if kind else
                            f"unknown site `{site}`"), item.pos.span(),
                            did_you_mean(site, ctx.site_kinds) or choices(ctx.site_kinds, "sites"))
            return None
        if len(item.names) == 2 and item.names[1] not in ctx.pools.get(site, []):
            ctx.diags.error("E0205", f"site `{site}` has no pool `{item.names[1]}`", item.pos.span(),
                            did_you_mean(item.names[1], ctx.pools[site]) or choices(ctx.pools[site], "pools"))
            return None
        out.append(item.dotted)
    return sorted(set(out))


def _estimate(ctx: Context, entry, resources: ir.Resources) -> ir.Estimate | None:
    if entry is None:
        return ir.Estimate(default=resources.time * S.DEFAULT_ESTIMATE_FRACTION, stated=False)
    raw, scope, f = entry
    if isinstance(raw, A.MapV):
        by_key = {}
        valid = sorted(ctx.gpu_types | set(ctx.site_kinds) |
                       {f"{s}.{p}" for s, ps in ctx.pools.items() for p in ps})
        for item in raw.items:
            if item.key not in valid:
                ctx.diags.error("E0306", f"estimate key `{item.key}` is not a GPU model, site or pool",
                                item.key_pos.span(),
                                did_you_mean(item.key, valid) or choices(valid, "keys"))
                return None
            seconds = ctx.ev.value(item.value, S.DURATION, scope)
            if seconds is BAD:
                return None
            by_key[item.key] = seconds
        if not by_key:
            ctx.diags.error("E0306", "an empty estimate", raw.pos.span())
            return None
        return ir.Estimate(default=max(by_key.values()), by_key=dict(sorted(by_key.items())))
    seconds = ctx.ev.value(raw, S.DURATION, scope)
    if seconds is BAD:
        return None
    return ir.Estimate(default=seconds)


def _output(ctx: Context, p: A.Port, scope: Scope) -> ir.Output | None:
    path = _path_call(ctx, p, scope, allow_size=True)
    if path is None:
        return None
    kind, text, size = path
    return ir.Output(name=p.name, path=text, kind=kind, size=size, span=p.name_pos.span())


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
    text = ctx.ev.string(v.args[0], scope)
    if text is BAD:
        return None
    if not text or text.startswith("/") or ".." in text.split("/") or "\n" in text:
        ctx.diags.error("E0310", f"`{text}` is not a relative path inside the work tree",
                        v.args[0].pos.span(),
                        help_("paths are relative to the site's work directory, without `..`"))
        return None
    size = 0
    for kw in v.kwargs:
        if kw.name != "size" or not allow_size:
            ctx.diags.error("E0310", f"`{v.name}(...)` has no argument `{kw.name}`", kw.name_pos.span(),
                            help_("it takes the path and `size = ...`"))
            return None
        value = ctx.ev.value(kw.value, S.SIZE, scope)
        if value is BAD:
            return None
        size = value
    return v.name, text.rstrip("/"), size


def source_input(ctx: Context, p: A.Port, scope: Scope) -> ir.Output | None:
    """`in cfg = file("configs/a.py")`: a file of the user's project."""
    path = _path_call(ctx, p, scope, allow_size=True)
    if path is None:
        return None
    kind, text, size = path
    return ir.Output(name=p.name, path=text, kind=kind, size=size, span=p.value.pos.span())
