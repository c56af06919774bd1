"""Pictures of a plan, written by hand so they are byte-for-byte reproducible
(no dates, no random ids): a Gantt chart and a DAG as SVG, and a Mermaid
flowchart that renders in a pull request."""

from __future__ import annotations

import heapq
import re

from ..fit import human_duration
from ..ir import DatasetRef, Experiment, Plan, Service

# Colour-blind-safe (Okabe-Ito), one per site in declaration order.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]
_FONT = 'font-family="sans-serif" font-size="12"'

# A box in the stage graph: a data set, or a unit by its id (or service name).
# Typed, so that no unit name can pass for a data set.
Node = DatasetRef | str


def escape(text: str) -> str:
    """&, < and > as XML entities, as xml.sax.saxutils.escape does (whose
    import pulls in urllib and ssl: a twentieth of a second of every mlc plan)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def site_colours(experiment: Experiment) -> dict[str, str]:
    return {site.name: PALETTE[i % len(PALETTE)] for i, site in enumerate(experiment.sites)}


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width: float, height: float, body: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}">'
    )
    return "\n".join([head, '<rect width="100%" height="100%" fill="white"/>', *body, "</svg>"]) + "\n"


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" {_FONT}{extra}>{escape(text)}</text>'


def _lanes(intervals: list[tuple[float, float, int]]) -> dict[int, int]:
    """Interval partitioning: the lowest row free at each start. Starts come
    in order, so a row that is free at one start stays free until it is used
    again: rows move from `busy` (by end) to `free` (by number) as the starts
    pass their ends, instead of every row being scanned for every interval."""
    busy: list[tuple[float, int]] = []
    free: list[int] = []
    rows = 0
    row_of = {}
    for begin, end, key in sorted(intervals):
        while busy and busy[0][0] <= begin + 1e-9:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            row = heapq.heappop(free)
        else:
            row, rows = rows, rows + 1
        heapq.heappush(busy, (end, row))
        row_of[key] = row
    return row_of


def gantt_svg(experiment: Experiment, plan: Plan) -> str:
    """One lane per pool (declaration order), a bar per unit; units that run
    at the same time on a pool get rows of their own within its lane."""
    colours = site_colours(experiment)
    horizon = max(plan.makespan, 1e-9)
    left, width, bar, gap, top = 170.0, 720.0, 18.0, 10.0, 30.0
    scale = width / (horizon * 1.05)
    body, y = [], top
    pools = [(s.name, p.name) for s in experiment.sites for p in s.pools]
    for site, pool in pools:
        mine = [(i, a) for i, a in enumerate(plan.assignments) if (a.site, a.pool) == (site, pool)]
        if not mine:
            continue
        rows = _lanes([(a.start, horizon * 1.05 if a.kind == "service" else a.finish, i) for i, a in mine])
        height = (max(rows.values()) + 1) * (bar + 2)
        body.append(_text(8, y + bar - 4, f"{site}/{pool}"))
        body.append(f'<line x1="{_num(left)}" y1="{_num(y + height + gap / 2)}" x2="{_num(left + width)}" y2="{_num(y + height + gap / 2)}" stroke="#dddddd"/>')
        for i, a in mine:
            x0 = left + a.start * scale
            end = horizon * 1.05 if a.kind == "service" else a.finish
            w = max(1.0, (end - a.start) * scale)
            ty = y + rows[i] * (bar + 2)
            dash = ' stroke-dasharray="4 2" stroke="black"' if a.kind == "service" else ""
            title = f"{a.unit}: {human_duration(a.start)} to " + ("(service)" if a.kind == "service" else human_duration(a.finish))
            body.append(
                f'<rect x="{_num(x0)}" y="{_num(ty)}" width="{_num(w)}" height="{_num(bar)}" '
                f'fill="{colours[a.site]}"{dash}><title>{escape(title)}</title></rect>'
            )
            if w > 7 * len(a.unit):
                body.append(_text(x0 + 3, ty + bar - 5, a.unit, extra=' fill="white"'))
        y += height + gap
    # A time axis with five ticks, drawn under the bars.
    axis = []
    for tick in range(6):
        t = horizon * tick / 5
        x = left + t * scale
        axis.append(f'<line x1="{_num(x)}" y1="{_num(top - 6)}" x2="{_num(x)}" y2="{_num(y)}" stroke="#eeeeee"/>')
        axis.append(_text(x, top - 10, human_duration(t), anchor="middle"))
    body.append(_text(left, y + 18, f"makespan {human_duration(plan.makespan)}, lower bound {human_duration(plan.lower_bound)}"))
    return _svg(left + width + 20, y + 30, axis + body)


def _node_order(node: Node) -> tuple[int, str]:
    """Data sets first, then units; each by name."""
    return (0, node.dataset) if isinstance(node, DatasetRef) else (1, node)


def _dependencies(experiment: Experiment) -> list[tuple[Node, Node]]:
    """(source, target) between units, plus data sets feeding units, sorted."""
    found: set[tuple[Node, Node]] = set()
    for unit in [*experiment.instances, *experiment.services]:
        name = unit.name if isinstance(unit, Service) else unit.id
        for inp in unit.inputs:
            if inp.dataset:
                found.add((DatasetRef(dataset=inp.dataset), name))
            for producer, _ in inp.outputs:
                found.add((producer, name))
        for before in unit.after:
            found.add((before, name))
    return sorted(found, key=lambda edge: (_node_order(edge[0]), _node_order(edge[1])))


def _data_nodes(edges: list[tuple[Node, Node]]) -> list[DatasetRef]:
    return sorted({s for s, _ in edges if isinstance(s, DatasetRef)}, key=_node_order)


def _layers(names: list[Node], edges: list[tuple[Node, Node]]) -> dict[Node, int]:
    """Longest-path layering; `names` is a topological order."""
    layer = {name: 0 for name in names}
    preds: dict[Node, list[Node]] = {}
    for source, target in edges:
        preds.setdefault(target, []).append(source)
    for name in names:
        layer[name] = max((layer[p] + 1 for p in preds.get(name, ()) if p in layer), default=0)
    return layer


def dag_svg(experiment: Experiment, plan: Plan) -> str:
    """The DAG left to right, one column per layer, boxes coloured by site."""
    colours = site_colours(experiment)
    where = {a.unit: a.site for a in plan.assignments}
    edges = _dependencies(experiment)
    names: list[Node] = [*_data_nodes(edges), *(a.unit for a in plan.assignments)]
    layer = _layers(names, edges)
    columns: dict[int, list[Node]] = {}
    for name in names:
        columns.setdefault(layer[name], []).append(name)
    box_w, box_h, col_gap, row_gap = 150.0, 28.0, 60.0, 14.0
    pos = {}
    for col, members in sorted(columns.items()):
        for row, name in enumerate(sorted(members, key=_node_order)):
            pos[name] = (20 + col * (box_w + col_gap), 40 + row * (box_h + row_gap))
    body = []
    for source, target in edges:
        if source in pos and target in pos:
            (x1, y1), (x2, y2) = pos[source], pos[target]
            body.append(
                f'<line x1="{_num(x1 + box_w)}" y1="{_num(y1 + box_h / 2)}" x2="{_num(x2)}" '
                f'y2="{_num(y2 + box_h / 2)}" stroke="#888888" marker-end="url(#arrow)"/>'
            )
    for name in names:
        x, y = pos[name]
        is_data = isinstance(name, DatasetRef)
        fill = "#ffffff" if is_data else colours[where[name]]
        label = name.dataset if is_data else name
        shown = label if len(label) <= 20 else label[:19] + "…"
        rx = "14" if is_data else "4"
        body.append(
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(box_w)}" height="{_num(box_h)}" rx="{rx}" '
            f'fill="{fill}" stroke="#333333"><title>{escape(label)}</title></rect>'
        )
        colour = ' fill="black"' if is_data else ' fill="white"'
        body.append(_text(x + box_w / 2, y + box_h / 2 + 4, shown, anchor="middle", extra=colour))
    width = 40 + (max(columns, default=0) + 1) * (box_w + col_gap)
    height = 60 + max((len(m) for m in columns.values()), default=1) * (box_h + row_gap)
    legend = []
    for i, site in enumerate(experiment.sites):
        x = 20 + i * 130
        legend.append(f'<rect x="{_num(x)}" y="10" width="12" height="12" fill="{colours[site.name]}"/>')
        legend.append(_text(x + 16, 20, site.name))
    marker = (
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#888888"/></marker></defs>'
    )
    return _svg(max(width, 20 + 130 * len(experiment.sites)), height, [marker, *legend, *body])


def _mermaid_label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid(experiment: Experiment, plan: Plan) -> str:
    """A flowchart: one subgraph per site, units inside, data sets as
    stadiums, edges for data and ordering."""
    ids: dict[Node, str] = {}
    edges = _dependencies(experiment)
    datasets = _data_nodes(edges)
    for i, name in enumerate([*datasets, *(a.unit for a in plan.assignments)]):
        ids[name] = f"n{i}"
    lines = ["flowchart LR"]
    data_site = {d.name: d.site for d in experiment.datasets}
    for site in experiment.sites:
        members = [a for a in plan.assignments if a.site == site.name]
        data = [d for d in datasets if data_site.get(d.dataset) == site.name]
        if not members and not data:
            continue
        lines.append(f"  subgraph {re.sub(r'[^A-Za-z0-9_]', '_', site.name)}[{_mermaid_label(site.name + ' (' + site.kind + ')')}]")
        for d in data:
            lines.append(f"    {ids[d]}([{_mermaid_label(d.dataset)}])")
        for a in members:
            text = f"{a.unit}<br/>{a.pool}, {human_duration(a.start)}"
            text += " (service)" if a.kind == "service" else f" to {human_duration(a.finish)}"
            lines.append(f"    {ids[a.unit]}[{_mermaid_label(text)}]")
        lines.append("  end")
    for source, target in edges:
        if source in ids and target in ids:
            lines.append(f"  {ids[source]} --> {ids[target]}")
    return "\n".join(lines) + "\n"
