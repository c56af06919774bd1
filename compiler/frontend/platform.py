"""Lowering of everything that is not a stage: the experiment header,
params, secrets, sites with their pools, links and data sets."""

from __future__ import annotations

from ..diagnostics import choices, did_you_mean, help_, note
from .. import ir
from . import ast as A
from . import schema as S
from ..sites import registry
from .context import Context, check_fields, positive
from .evaluate import BAD, POISONED, Bound, Scope, format_value, poisoned
from .paths import GENERATED, generated_overlap
from .syntax import parse_value


def lower_params(ctx: Context, overrides: dict[str, str]) -> tuple[Scope, dict]:
    """Params with their defaults, then `-p name=value` overrides (parsed as
    .mlx values and checked against the declared type)."""
    names: dict[str, Bound] = {}
    values: dict = {}
    empty = Scope({})
    for p in ctx.decls.of_kind(A.Param):
        t = user_type(ctx, p.type)
        value = BAD if t is None else ctx.ev.value(p.value, t, empty)
        if value is BAD:
            names[p.name] = poisoned(p.name_pos)  # uses of it are skipped, not "unknown"
            continue
        text = p.value.text if isinstance(p.value, (A.Quantity, A.Num)) else format_value(value)
        names[p.name] = Bound(value, t, text, p.name_pos)
    for name in sorted(overrides):
        raw = overrides[name]
        decl = ctx.decls.by_name.get(name)
        if not isinstance(decl, A.Param):
            ctx.diags.error("E0208", f"`-p {name}=...`: the experiment has no param `{name}`", None,
                            *[n for n in [did_you_mean(name, [p.name for p in ctx.decls.of_kind(A.Param)])] if n])
            continue
        t = user_type(ctx, decl.type)
        if t is None:
            continue
        source = f"<-p {name}>"
        if t == S.STR and not raw.lstrip().startswith('"'):
            # -p model=rtmdet_s: an unquoted value of a string param is taken as written
            parsed = A.Str((raw,), A.Pos(source, 1, 1, 1, len(raw) + 1))
        else:
            parsed = parse_value(raw, source, ctx.diags)
        if parsed is None:
            continue
        value = ctx.ev.value(parsed, t, empty)
        if value is BAD:
            continue
        text = parsed.text if isinstance(parsed, (A.Quantity, A.Num)) else format_value(value)
        names[name] = Bound(value, t, text, decl.name_pos)
    for name, bound in names.items():
        if bound.type != POISONED:
            values[name] = bound.value
    return Scope(names), dict(sorted(values.items()))


def user_type(ctx: Context, t: A.TypeExpr) -> S.Type | None:
    if t.name == "list":
        if t.arg is None:
            ctx.diags.error("E0312", "`list` needs an element type", t.pos.span(),
                            help_("write `list[float]`"))
            return None
        inner = user_type(ctx, t.arg)
        return None if inner is None else S.list_of(inner)
    if t.name in S.USER_TYPES and t.arg is None:
        return S.USER_TYPES[t.name]
    ctx.diags.error("E0312", f"unknown type `{t}`", t.pos.span(),
                    did_you_mean(t.name, list(S.USER_TYPES) + ["list"]) or
                    choices(list(S.USER_TYPES) + ["list[T]"], "types"))
    return None


def lower_objective(ctx: Context) -> tuple[str, str, ir.Objective, ir.Span]:
    exp = ctx.decls.experiment
    if exp is None:
        return "", "", ir.Objective(), None
    values = check_fields(ctx, exp.fields, S.EXPERIMENT, ctx.params,
                          what=f"experiment `{exp.name}`", at=exp.name_pos)
    kind, tw, cw = "makespan", 1.0, 0.0
    objective_span = exp.name_pos.span()
    raw = values.get("objective")
    if raw is not None:
        objective_span = raw.pos.span()
        if isinstance(raw, A.Ref) and raw.dotted in ("makespan", "cost"):
            kind = raw.dotted
            tw, cw = (1.0, 0.0) if kind == "makespan" else (0.0, 1.0)
        elif isinstance(raw, A.Call) and raw.name == "weighted" and not raw.args:
            kind = "weighted"
            weights = {"time": 0.0, "cost": 0.0}
            for kw in raw.kwargs:
                if kw.name not in weights:
                    ctx.diags.error("E0306", f"unknown weight `{kw.name}`", kw.name_pos.span(),
                                    choices(weights, "weights"))
                    continue
                w = ctx.ev.value(kw.value, S.FLOAT, ctx.params)
                if w is not BAD and w < 0:  # a negative weight rewards the slow or the costly plan
                    ctx.diags.error("E0306", f"the weight `{kw.name}` must be zero or more",
                                    kw.value.pos.span())
                elif w is not BAD:
                    weights[kw.name] = w
            tw, cw = weights["time"], weights["cost"]
        else:
            ctx.diags.error("E0306", "unknown objective", raw.pos.span(),
                            help_("write `makespan`, `cost`, or `weighted(time = 1, cost = 0.5)`"))
    if "budget" in values and values["budget"] < 0:
        ctx.diags.error("E0306", "`budget` must be zero or more",
                        next(f for f in exp.fields if f.name == "budget").value.pos.span())
        values.pop("budget")
    def value_span(name: str):
        f = next((f for f in exp.fields if f.name == name), None)
        return f.value.pos.span() if f is not None and name in values else None

    objective = ir.Objective(kind=kind, time_weight=tw, cost_weight=cw,
                             deadline=values.get("deadline"), budget=values.get("budget"),
                             span=objective_span, deadline_span=value_span("deadline"),
                             budget_span=value_span("budget"))
    return exp.name, values.get("description", ""), objective, exp.name_pos.span()


def lower_secrets(ctx: Context) -> list[ir.Secret]:
    out = []
    for d in ctx.decls.of_kind(A.Secret):
        mark = ctx.mark()
        secret = _lower_secret(ctx, d)
        if secret is not None:
            out.append(secret)
        if ctx.failed_since(mark):
            ctx.poisoned.add(d.name)
    return out


def _lower_secret(ctx: Context, d: A.Secret) -> ir.Secret | None:
    values = check_fields(ctx, d.fields, S.SECRET, Scope({}), what=f"secret `{d.name}`",
                          at=d.name_pos)
    if not values:
        ctx.diags.error("E0302", f"secret `{d.name}` says nowhere where to find it", d.name_pos.span(),
                        help_("give `kubernetes = \"secret-name/key\"`, `env = \"VAR\"` "
                              "or `file = \"path\"`"))
        return None
    k8s = None
    reference = values.get("kubernetes")  # the secret's field, not the site kind
    if reference is not None:
        name, slash, key = reference.partition("/")
        if not slash or not name or not key:
            f = next(x for x in d.fields if x.name == "kubernetes")
            ctx.diags.error("E0306", "a Kubernetes secret reference is `secret-name/key`",
                            f.value.pos.span())
        else:
            k8s = (name, key)
    return ir.Secret(name=d.name, kubernetes=k8s, env=values.get("env"), file=values.get("file"),
                     span=d.name_pos.span())


def lower_sites(ctx: Context) -> list[ir.Site]:
    sites = []
    for d in ctx.decls.of_kind(A.Site):
        if d.kind not in registry.KINDS:
            kinds = tuple(registry.KINDS)
            ctx.diags.error("E0308", f"unknown site kind `{d.kind}`", d.kind_pos.span(),
                            did_you_mean(d.kind, kinds) or choices(kinds, "site kinds"))
            ctx.poisoned.add(d.name)
            ctx.gpu_types_complete = False  # its pools were not read
            continue
        mark = ctx.mark()
        site = _lower_site(ctx, d)
        # A pool-less site's fields are its one pool's resources.
        if site is None or (registry.kind(d.kind).pool_keyword is None and ctx.failed_since(mark)):
            ctx.poisoned.add(d.name)
            ctx.gpu_types_complete = False
        if site is not None:
            sites.append(site)
            ctx.site_kinds[site.name] = site.kind
            ctx.pools[site.name] = [p.name for p in site.pools]
            ctx.gpu_types.update(p.gpus.type for p in site.pools if p.gpus and p.gpus.type)
    if not ctx.decls.of_kind(A.Site):
        sites.append(_implicit_local_site(ctx))
    return sites


def _implicit_local_site(ctx: Context) -> ir.Site:
    """No site declared: everything runs on this machine (the embedded default)."""
    name = S.IMPLICIT_LOCAL["name"]
    span = ir.Span(file="<builtin>", line=1, column=1, end_line=1, end_column=1)
    kind = registry.IMPLICIT
    pool = ir.Pool(name=kind.name, site=name, nodes=1, cpus=S.IMPLICIT_LOCAL["cpus"],
                   memory=S.IMPLICIT_LOCAL["memory"], span=span)
    ctx.site_kinds[name] = kind.name
    ctx.pools[name] = [pool.name]
    return ir.Site(name=name, kind=kind.name, pools=[pool], implicit=True, span=span, **kind.settings({}))


def _lower_site(ctx: Context, d: A.Site) -> ir.Site | None:
    what = f"{d.kind} site `{d.name}`"
    kind = registry.kind(d.kind)
    values = check_fields(ctx, d.fields, kind.site_fields(), ctx.params, what=what, at=d.name_pos)
    span = d.name_pos.span()
    for code, name, message, hint in kind.field_problems(values):
        f = next(x for x in reversed(d.fields) if x.name == name)
        ctx.diags.error(code, message, f.value.pos.span(), help_(hint))
    if kind.pool_keyword is None:
        for pool in d.pools:
            ctx.diags.error("E0309", f"a {kind.name} site has no {pool.keyword}s", pool.keyword_pos.span(),
                            help_("give `cpus`, `memory` and `gpus` on the site itself"))
        positive(ctx, values, "cpus", d.fields)
        if "cpus" not in values or "memory" not in values:
            return None
        pool = ir.Pool(name=kind.name, site=d.name, nodes=1, cpus=values["cpus"], memory=values["memory"],
                       gpus=values.get("gpus"), speed=values.get("speed", 1.0), span=span)
        settings = kind.settings(values)
        overlap = generated_overlap(values.get("workdir", "work"), d.name) if kind.work_tree_in_output_folder else None
        if overlap is not None:
            f = next(x for x in d.fields if x.name == "workdir")
            ctx.diags.error("E0306", f"the work tree of site `{d.name}` would be `{overlap}` in the "
                            "generated folder: the stages' outputs would overwrite what mlc generates",
                            f.value.pos.span(),
                            help_('choose a workdir of its own (the default is "work"); the generated '
                                  "folder holds " + ", ".join(f"`{g}`" for g in GENERATED)))
            return None
        return ir.Site(name=d.name, kind=kind.name, pools=[pool], span=span, **settings)
    keyword = kind.pool_keyword
    pools = []
    seen: dict[str, A.PoolDecl] = {}
    for p in d.pools:
        if p.keyword != keyword:
            ctx.diags.error("E0309", f"a {d.kind} site has {keyword}s, not {p.keyword}s",
                            p.keyword_pos.span(), help_(f"write `{keyword} {p.name} {{ ... }}`"))
            ctx.poisoned.add(f"{d.name}.{p.name}")
            continue
        if p.name in seen:
            ctx.diags.error("E0201", f"{keyword} `{p.name}` is declared twice in site `{d.name}`",
                            p.name_pos.span(), note("the first one is here", seen[p.name].name_pos.span()))
            continue
        seen[p.name] = p
        mark = ctx.mark()
        pool = _lower_pool(ctx, d, p)
        if ctx.failed_since(mark):
            ctx.poisoned.add(f"{d.name}.{p.name}")
        if pool is not None:
            pools.append(pool)
    if not d.pools:
        ctx.diags.error("E0302", f"{what} has no {keyword}s", span,
                        help_(f"add `{keyword} NAME {{ nodes = ...; cpus = ...; memory = ... }}`"))
        return None
    return ir.Site(name=d.name, kind=kind.name, pools=pools, span=span, **kind.settings(values))


def _lower_pool(ctx: Context, d: A.Site, p: A.PoolDecl) -> ir.Pool | None:
    keyword = registry.kind(d.kind).pool_keyword
    kind = registry.kind(d.kind)
    pv = check_fields(ctx, p.fields, {**S.POOL, **kind.pool_fields()}, ctx.params,
                      what=f"{keyword} `{d.name}.{p.name}`", at=p.name_pos)
    for name in ("nodes", "cpus"):
        positive(ctx, pv, name, p.fields)
    if pv.get("gpus") and pv["gpus"].type:
        ctx.gpu_types.add(pv["gpus"].type)  # an estimate may name it even if the pool is broken
    elif "gpus" not in pv and any(f.name == "gpus" for f in p.fields):
        ctx.gpu_types_complete = False
    if "cpus" not in pv or "memory" not in pv:
        return None
    tolerations = pv.get("tolerations", [])
    for t in tolerations:
        if ":" not in t:
            f = next(x for x in p.fields if x.name == "tolerations")
            ctx.diags.error("E0306", f"toleration `{t}` is not `key=value:Effect` or `key:Effect`",
                            f.value.pos.span())
    return ir.Pool(
        name=p.name, site=d.name, nodes=pv.get("nodes", 1), cpus=pv["cpus"], memory=pv["memory"],
        gpus=pv.get("gpus"), max_time=pv.get("max_time"), price=pv.get("price", 0.0),
        speed=pv.get("speed", 1.0), selector=pv.get("selector", {}), tolerations=tolerations,
        span=p.name_pos.span(), **kind.pool_settings(pv),
    )


def resolve_site(ctx: Context, v, *, what: str) -> str | None:
    """A value that must name a declared site."""
    if isinstance(v, A.Ref) and len(v.names) == 1:
        name = v.names[0]
        if name in ctx.site_kinds:
            return name
        if name in ctx.poisoned:
            ctx.skip()  # the site had an error, already reported
            return None
        kind = ctx.decls.kind(name)
        if kind is not None and kind != "site":
            ctx.diags.error("E0207", f"{what}: `{name}` is a {kind}, not a site", v.pos.span(),
                            choices(ctx.site_kinds, "sites"))
        elif kind is None:
            ctx.diags.error("E0204", f"{what}: unknown site `{name}`", v.pos.span(),
                            did_you_mean(name, ctx.site_kinds) or choices(ctx.site_kinds, "sites"))
        return None
    ctx.diags.error("E0303", f"{what}: expected a site name, found {ctx.ev.describe(v)}", v.pos.span())
    return None


def lower_links(ctx: Context) -> list[ir.Link]:
    links = []
    seen: dict[tuple[str, str], A.Link] = {}
    for d in ctx.decls.links:
        values = check_fields(ctx, d.fields, S.LINK, ctx.params,
                              what=f"link `{d.source} {'<->' if d.symmetric else '->'} {d.target}`",
                              at=d.source_pos)
        ends = []
        for name, pos in ((d.source, d.source_pos), (d.target, d.target_pos)):
            ends.append(resolve_site(ctx, A.Ref((name,), pos), what="link"))
        if None in ends or "bandwidth" not in values:
            continue
        if ends[0] == ends[1]:
            ctx.diags.error("E0704", "a link joins two different sites", d.target_pos.span(),
                            help_("transfers within a site are free; no link is needed"))
            continue
        key = (ends[0], ends[1]) if not d.symmetric else tuple(sorted(ends))
        if key in seen:
            ctx.diags.error("E0704", f"a second link between `{ends[0]}` and `{ends[1]}`",
                            d.source_pos.span(), note("the first one is here", seen[key].source_pos.span()))
            continue
        seen[key] = d
        if values["bandwidth"] <= 0:
            ctx.diags.error("E0306", "`bandwidth` must be more than zero",
                            next(f for f in d.fields if f.name == "bandwidth").value.pos.span())
            continue
        links.append(ir.Link(source=ends[0], target=ends[1], symmetric=d.symmetric,
                             bandwidth=values["bandwidth"], latency=values.get("latency", 0.0),
                             egress=values.get("egress", 0.0), span=d.source_pos.span()))
    return links


def lower_datasets(ctx: Context) -> list[ir.Dataset]:
    out = []
    for d in ctx.decls.of_kind(A.Dataset):
        values = check_fields(ctx, d.fields, S.DATASET, ctx.params, what=f"dataset `{d.name}`",
                              at=d.name_pos)
        if "at" not in values or "uri" not in values:
            continue
        site = resolve_site(ctx, values["at"], what=f"dataset `{d.name}`")
        if site is None:
            continue
        out.append(ir.Dataset(name=d.name, uri=values["uri"], size=values.get("size", 0), site=site,
                              span=d.name_pos.span()))
    return out
