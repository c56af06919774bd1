"""The DAG: binding inputs to the outputs and data sets they name, `after`
ordering, cycles, outputs written twice, and a deterministic topological order."""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from .. import ir
from ..diagnostics import choices, did_you_mean, help_, note
from . import ast as A
from .context import Context
from . import lifetimes
from .select import MemberIndex, bind_selection
from .stages import UnitDraft, source_input


def build_graph(ctx: Context, drafts: list[UnitDraft], datasets: list[ir.Dataset]):
    """Returns (instances in topological order, services). With a cycle,
    its members come after the rest, in source order. The edges are the
    IR's to derive from the units (`Experiment.edges`): none is made here."""
    by_group: dict[str, list[UnitDraft]] = {}
    for dr in drafts:
        by_group.setdefault(dr.group, []).append(dr)
    dataset_by_name = {d.name: d for d in datasets}
    # One lookup per edge: a fan-in over N members has N edges.
    output_size = {(dr.id, o.name): o.size for dr in drafts for o in dr.outputs}
    members = MemberIndex(by_group)
    at = {dr.id: i for i, dr in enumerate(drafts)}

    inputs_of: dict[str, list[ir.Input]] = {}
    # Per unit, by their place in `drafts`, the units it waits for, as
    # often as it names them (what `_topological` orders by).
    waits: list[list[int]] = []
    # The instances, made as soon as their inputs are bound, so that their
    # drafts' fields can go while the rest are bound (the front end's peak
    # is here); put in order at the end.
    made: dict[str, ir.StageInstance] = {}
    make_input, Ref = ir.Input.trusted, A.Ref
    for dr in drafts:
        bound = []
        sources: list[int] = []
        waits.append(sources)
        for port, scope in dr.inputs:
            value = port.value
            if value.__class__ is Ref and len(names := value.names) == 2:
                # `stage.output` of a stage without a sweep: most of a large
                # workflow's inputs, bound here without a call (_bind_input
                # binds the rest, and reports what is wrong)
                producers = by_group.get(names[0])
                if producers is not None and len(producers) == 1 and producers[0].kind == "instance" and (
                        first := (producers[0].id, names[1])) in output_size:
                    bound.append(make_input(name=port.name, outputs=[first], span=port.name_pos))
                    sources.append(at[first[0]])
                    continue
            inp = (bind_selection(ctx, port, scope, members) if isinstance(value, A.Select)
                   else _bind_input(ctx, dr, port, scope, by_group, dataset_by_name, output_size))
            if inp is None:
                continue
            bound.append(inp)
            if inp.service is not None:
                sources.append(at[inp.service])
            for producer, _ in inp.outputs:
                sources.append(at[producer])
        inputs_of[dr.id] = bound
        dr.inputs = ()  # bound: their syntax can go (with load's, the last of the stage's body)
        after_ids = []
        for ref in dr.after:
            targets = by_group.get(ref.names[0])
            if targets is None:
                kind = ctx.decls.kind(ref.names[0])
                if kind in ("stage", "service"):
                    continue  # declared, but could not be lowered: already reported
                ctx.diags.error("E0202", "`after`: " + (f"`{ref.names[0]}` is a {kind}, not a stage or service"
                                if kind else f"unknown stage `{ref.names[0]}`"), ref.pos.span(),
                                did_you_mean(ref.names[0], by_group) or choices(by_group, "stages"))
                continue
            if ref.names[0] == dr.group:
                # One error, not also a cycle among the members of a sweep.
                ctx.diags.error("E0601", f"`{dr.group}` cannot run after itself", ref.pos.span())
                continue
            for t in targets:
                after_ids.append(t.id)
                sources.append(at[t.id])
        dr.fields.after = sorted(set(after_ids))
        if dr.kind == "instance":
            # Every part was checked as it was lowered (its models validated
            # then): not validated again. Services are few, and validated
            # once their lifetimes are settled, below.
            made[dr.id] = ir.StageInstance.trusted(
                id=dr.id, stage=dr.group, index=dr.index, sweep=dr.sweep, inputs=bound,
                outputs=dr.outputs, template=dr.template, span=dr.decl.name_pos.span(), **dr.fields.instance_args())
            dr.fields = None

    _check_outputs_unique(ctx, by_group.values())
    lifetimes.settle(ctx, drafts, inputs_of)
    order = _topological(ctx, drafts, waits, at)
    instances, services = [], []
    for dr in order:
        if dr.kind == "instance":
            instances.append(made[dr.id])
        else:
            services.append(ir.Service(
                name=dr.id, inputs=inputs_of[dr.id], template=dr.template,
                span=dr.decl.name_pos.span(), **dr.fields.service_args()))
    return instances, services


def _bind_input(ctx: Context, dr: UnitDraft, port: A.Port, scope, by_group, datasets,
                output_size: dict[tuple[str, str], int]) -> ir.Input | None:
    v = port.value
    span = port.name_pos.span()
    if isinstance(v, A.Call):
        source = source_input(ctx, port, scope)
        return None if source is None else ir.Input.trusted(name=port.name, source=source, span=span)
    if not isinstance(v, A.Ref) or len(v.names) > 2:
        ctx.diags.error("E0310", "an input names a data set, a stage's output (`stage.output`), "
                        "or a project file (`file(\"path\")`)", v.pos.span())
        return None
    head = v.names[0]
    if len(v.names) == 1:
        if head in datasets:
            return ir.Input.trusted(name=port.name, dataset=head, span=span)
        if head in by_group and by_group[head][0].kind == "service":
            return ir.Input.trusted(name=port.name, service=head, span=span)
        if head in by_group:
            producer = by_group[head][0]
            outs = [o.name for o in producer.outputs]
            ctx.diags.error("E0602", f"`{head}` is a stage; name one of its outputs", v.pos.span(),
                            help_(f"write `{head}.{outs[0]}`" if outs else f"stage `{head}` has no outputs"))
            return None
        kind = ctx.decls.kind(head)
        if kind == "dataset":
            return None  # the data set itself had an error, already reported
        known = list(datasets) + list(by_group)
        ctx.diags.error("E0202", f"unknown data set or stage `{head}`" if kind is None else
                        f"`{head}` is a {kind}; an input names a data set or a stage output",
                        v.pos.span(), *([did_you_mean(head, known)] if did_you_mean(head, known) else []))
        return None
    producers = by_group.get(head)
    if producers is None:
        kind = ctx.decls.kind(head)
        if kind in ("stage", "service"):
            if kind == "service":
                _service_has_no_outputs(ctx, head, port.name, v)
            return None  # a stage that failed to lower: already reported
        ctx.diags.error("E0202", f"unknown stage `{head}`", v.pos.span(),
                        *([n] if (n := did_you_mean(head, list(by_group))) else []))
        return None
    if producers[0].kind == "service":
        _service_has_no_outputs(ctx, head, port.name, v)
        return None
    name = v.names[1]
    if (producers[0].id, name) in output_size:
        pairs = [(p.id, name) for p in producers]
        # The members of a sweep have the same outputs, unless a member's
        # own values broke one (a control character in a path, say).
        if all(map(output_size.__contains__, pairs)):
            return ir.Input.trusted(name=port.name, outputs=pairs, span=span)
        lacking = next(p for p in producers if (p.id, name) not in output_size)
        if name in lacking.bad_outputs or lacking.ports_unknown:
            return None  # that member's output had an error, already reported
        producers = [lacking]
    if name in producers[0].bad_outputs or producers[0].ports_unknown:
        return None  # the output (or the template declaring it) had an error, already reported
    outs = [o.name for o in producers[0].outputs]
    ctx.diags.error("E0602", f"stage `{head}` has no output `{name}`", v.pos.span(),
                    did_you_mean(name, outs) or choices(outs, "its outputs"),
                    note("the stage is declared here", producers[0].decl.name_pos.span()))
    return None


def _service_has_no_outputs(ctx: Context, service: str, port: str, v: A.Ref) -> None:
    ctx.diags.error("E0604", f"`{service}` is a service; services have no outputs", v.pos.span(),
                    help_(f"write `in {port} = {service}`: `${{in.{port}}}` is then its URL"))


def _check_outputs_unique(ctx: Context, groups: Iterable[list[UnitDraft]]) -> None:
    """Two instances writing one path would overwrite each other (and make
    transfers ambiguous). Reported once per output: among the members of one
    sweep, and once per pair of outputs of different stages. `groups`, the
    drafts by stage, in source order."""
    # Each path's first writer and output, in two maps rather than one of
    # pairs (a tuple per output): the front end's peak memory is about here.
    first_writer: dict[str, UnitDraft] = {}
    first_output: dict[str, ir.Output] = {}
    reported: set[tuple] = set()
    for group in groups:
        for name in _output_names(group):
            by_path: dict[str, list[tuple[UnitDraft, ir.Output]]] = {}
            for dr in group:
                for out in dr.outputs:
                    if out.name == name:
                        by_path.setdefault(out.path, []).append((dr, out))
            collisions = [writers for writers in by_path.values() if len(writers) > 1]
            if collisions:
                _report_sweep_collision(ctx, collisions)
            for path, writers in by_path.items():
                dr, out = writers[0]
                first = first_writer.setdefault(path, dr), first_output.setdefault(path, out)
                pair = (first[0].group, first[1].name, dr.group, out.name)
                if first[0] is dr and first[1] is out or pair in reported:
                    continue
                reported.add(pair)
                ctx.diags.error("E0603", f"`{path}` is written by both {_writer(*first, dr)} and "
                                f"{_writer(dr, out, first[0])}", out.span,
                                help_("give each output its own path"),
                                note("first written here", first[1].span))


def _output_names(group: list[UnitDraft]) -> list[str]:
    names: dict[str, None] = {}
    for dr in group:
        names.update((out.name, None) for out in dr.outputs)
    return list(names)


def _writer(dr: UnitDraft, out: ir.Output, other: UnitDraft) -> str:
    """How a message names a writer: its id, and the output when both
    writers are the same unit."""
    return f"`{dr.id}` (`out {out.name}`)" if dr is other else f"`{dr.id}`"


def _report_sweep_collision(ctx: Context, collisions: list[list[tuple[UnitDraft, ir.Output]]]) -> None:
    """Sweep members that share a path differ only in variables the path
    does not use: those are the ones to put in it."""
    missing: dict[str, None] = {}
    for writers in collisions:
        for var in writers[0][0].sweep:
            if len({repr(dr.sweep.get(var)) for dr, _ in writers}) > 1:
                missing[var] = None
    writers = collisions[0]
    dr, out = writers[0]
    shown = ", ".join(f"`{w.id}`" for w, _ in writers[:3]) + (", ..." if len(writers) > 3 else "")
    names = " and ".join(f"`${{{v}}}`" for v in missing)
    plain = " or ".join(f"`{v}`" for v in missing)
    ctx.diags.error("E0603", f"`{out.path}` is written by {len(writers)} members of sweep `{dr.group}` "
                    f"({shown})", out.span,
                    help_(f"the path does not depend on {plain}: put {names} in it"))


def _topological(ctx: Context, drafts: list[UnitDraft], waits: list[list[int]],
                 at: dict[str, int]) -> list[UnitDraft]:
    """Kahn's algorithm, ready units taken in source order: the same file
    always gives the same order. Units on or behind a cycle come last.
    `waits`, per unit by its place in `drafts`, the units it waits for (all
    but data sets), as often as it names them (a producer read twice is
    also twice among its successors); `at`, each unit's place. Units by
    their place, in lists: the front end's peak memory is about here."""
    indegree = [len(sources) for sources in waits]
    succs: list = [()] * len(drafts)  # a list only for a unit something waits for
    for i, sources in enumerate(waits):
        for k in sources:
            if succs[k]:
                succs[k].append(i)
            else:
                succs[k] = [i]
    ready = [i for i, n in enumerate(indegree) if n == 0]  # ascending: already a heap
    order = []
    pop, push = heapq.heappop, heapq.heappush
    while ready:
        i = pop(ready)
        order.append(drafts[i])
        for s in succs[i]:
            indegree[s] -= 1
            if indegree[s] == 0:
                push(ready, s)
    if len(order) == len(drafts):
        return order
    stuck = {drafts[i].id for i, n in enumerate(indegree) if n > 0}
    by_id = {dr.id: dr for dr in drafts}
    preds = {dr.id: [drafts[k].id for k in sources] for dr, sources in zip(drafts, waits)}
    reported: set[tuple[str, ...]] = set()
    for component in _cycles(stuck, preds, at):
        _report_cycle(ctx, component, preds, by_id, reported)
    return order + sorted((by_id[u] for u in stuck), key=lambda dr: at[dr.id])


def _cycles(stuck: set[str], preds: dict[str, list[str]], rank: dict[str, int]) -> list[set[str]]:
    """The strongly connected components of the stuck units that hold a
    cycle, first declared first: each is one independent cycle to report
    (the other stuck units only wait behind one). Iterative Tarjan."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    for root in sorted(stuck, key=rank.__getitem__):
        if root in index:
            continue
        work = [(root, iter(sorted((p for p in preds[root] if p in stuck), key=rank.__getitem__)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted((p for p in preds[nxt] if p in stuck),
                                                  key=rank.__getitem__))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in preds[node]:
                    components.append(component)
    return sorted(components, key=lambda c: min(rank[u] for u in c))


def _report_cycle(ctx: Context, stuck: set[str], preds, by_id, reported: set) -> None:
    # Walk predecessors inside the component until a unit repeats: that is a cycle.
    start = min(stuck, key=lambda u: (by_id[u].decl.name_pos.line, u))
    path = [start]
    seen = {start: 0}
    current = start
    while True:
        current = min(p for p in preds[current] if p in stuck)
        if current in seen:
            cycle = path[seen[current]:]
            break
        seen[current] = len(path)
        path.append(current)
    cycle = list(reversed(cycle))
    groups = []
    for u in cycle:
        if by_id[u].group not in groups:
            groups.append(by_id[u].group)
    if tuple(sorted(groups)) in reported:  # the same stages, through other sweep members
        return
    reported.add(tuple(sorted(groups)))
    first = by_id[cycle[0]].decl
    shown = " -> ".join(groups + [groups[0]])
    ctx.diags.error("E0601", f"dependency cycle: {shown}", first.name_pos.span(),
                    *[note(f"`{g}` is declared here", next(by_id[u].decl.name_pos.span() for u in cycle
                                                            if by_id[u].group == g)) for g in groups[1:]],
                    help_("a stage cannot depend, through its inputs or `after`, on its own outputs"))
