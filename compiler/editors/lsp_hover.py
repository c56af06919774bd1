"""Hover text (Markdown) for a name: what it is and what it came to. A stage
shows its resolved resources and, once the experiment places, where each
instance runs and why."""

from __future__ import annotations

from ..diagnostics import SourceCache
from ..fit import human_duration, human_size
from ..frontend import ast as A
from ..frontend import schema
from ..ir import Experiment, Gpus, Plan, Resources
from ..sites import registry
from .lsp_analysis import Analysis
from .lsp_index import Occurrence


def hover_text(analysis: Analysis, occ: Occurrence) -> str | None:
    symbol = occ.symbol
    if symbol.startswith("field:"):
        return _field(symbol)
    if symbol.startswith("file:"):
        return f"imported file `{symbol.removeprefix('file:')}`"
    decl = analysis.index.declarations.get(symbol)
    if decl is not None:
        return _declaration(analysis, decl)
    definition = analysis.index.definitions.get(symbol)
    if definition is None:
        return None
    parts = symbol.split(".")  # SITE.POOL, or UNIT.in|out|axis|param.NAME
    what = {"in": "input port", "out": "output port", "axis": "sweep variable",
            "param": "template parameter"}.get(parts[1] if len(parts) == 3 else "", "pool")
    written = _header(analysis.sources, _line_span(definition.pos))
    text = f"{what} `{parts[-1]}`\n```mlx\n{written}\n```"
    if what == "pool" and analysis.experiment is not None:
        text += _pool(analysis.experiment, symbol)
    return text


def _pool(experiment: Experiment, pool_id: str) -> str:
    try:
        pool = experiment.pool(pool_id)
    except KeyError:
        return ""
    limit = f", at most {human_duration(pool.max_time)}" if pool.max_time else ""
    return f"\n{pool.nodes} nodes of {pool.cpus} CPUs, {_memory(pool.memory)}{_gpus(pool.gpus)}{limit}"


def _field(symbol: str) -> str:
    block, _, name = symbol.removeprefix("field:").rpartition(":")
    if block.startswith("site:"):
        kind = registry.KINDS.get(block.split(":")[1])
        table = kind.site_fields() if kind else {}
    else:
        table = _FIELD_TABLES.get(block, {})
    spec = table.get(name)
    if spec is None:
        return f"`{name}` is not a field of {block.replace(':', ' ')} blocks"
    required = " (required)" if spec.required else ""
    return f"field `{name}`: {schema.type_name(spec.type)}{required}"


_FIELD_TABLES = {
    "experiment": schema.EXPERIMENT, "secret": schema.SECRET, "dataset": schema.DATASET,
    "pool": schema.POOL, "link": schema.LINK, "stage": schema.STAGE, "service": schema.SERVICE,
}


def _declaration(analysis: Analysis, decl) -> str:
    experiment, plan = analysis.experiment, analysis.plan
    header = _header(analysis.sources, _header_span(decl))
    text = f"```mlx\n{header}\n```"
    if isinstance(decl, A.Param) and experiment is not None and decl.name in experiment.params:
        text += f"\nvalue: `{experiment.params[decl.name]!r}`"
    elif isinstance(decl, A.Stage) and experiment is not None:
        text += _stage(experiment, plan, decl.name)
    elif isinstance(decl, A.Service) and experiment is not None:
        text += _service(experiment, plan, decl.name)
    elif isinstance(decl, A.Site) and experiment is not None:
        text += _site(experiment, decl.name)
    elif isinstance(decl, A.Dataset) and experiment is not None:
        text += _dataset(experiment, decl.name)
    return text


def _memory(size: int) -> str:
    """Memory is declared in binary units (GiB), so it is shown that way."""
    for unit, scale in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} B"


def _gpus(gpus: Gpus | None) -> str:
    return f", {gpus.count} x {gpus.type or 'any GPU'}" if gpus else ""


def _resources(r: Resources, time: bool = True) -> str:
    limit = f", {human_duration(r.time)}" if time else ""
    return f"{r.cpus} CPUs, {_memory(r.memory)}{_gpus(r.gpus)}{limit}"


def _stage(experiment: Experiment, plan: Plan | None, name: str) -> str:
    instances = [i for i in experiment.instances if i.stage == name]
    if not instances:
        return ""
    lines = ["", "**resources**"]
    kinds = sorted({_resources(i.resources) for i in instances})
    if len(kinds) == 1:
        lines.append(f"- {kinds[0]}")
    else:
        lines += [f"- `{i.id}`: {_resources(i.resources)}" for i in instances]
    lines += _placement(plan, [i.id for i in instances])
    return "\n".join(lines)


def _service(experiment: Experiment, plan: Plan | None, name: str) -> str:
    service = next((s for s in experiment.services if s.name == name), None)
    if service is None:
        return ""
    lines = ["", "**resources**", f"- {service.replicas} x ({_resources(service.resources, False)})"]
    return "\n".join(lines + _placement(plan, [name]))


def _placement(plan: Plan | None, units: list[str]) -> list[str]:
    if plan is None:
        return ["", "not placed: the experiment has errors, or no plan fits"]
    lines = ["", "**runs on**"]
    for unit in units:
        try:
            a = plan.where(unit)
        except KeyError:
            continue
        prefix = f"`{unit}` " if len(units) > 1 else ""
        where = f"{a.site}.{a.pool}"
        reason = a.reason.removeprefix(f"{where}: ")
        lines.append(f"- {prefix}{where}: {reason}" if reason else f"- {prefix}{where}")
    return lines


def _site(experiment: Experiment, name: str) -> str:
    try:
        site = experiment.site(name)
    except KeyError:
        return ""
    lines = ["", f"**{site.kind} site**"]
    for pool in site.pools:
        lines.append(f"- `{pool.id}`: {pool.nodes} x "
                     f"({pool.cpus} CPUs, {_memory(pool.memory)}{_gpus(pool.gpus)})")
    return "\n".join(lines)


def _dataset(experiment: Experiment, name: str) -> str:
    dataset = next((d for d in experiment.datasets if d.name == name), None)
    if dataset is None:
        return ""
    size = f", {human_size(dataset.size)}" if dataset.size else ""
    return f"\n`{dataset.uri}` at {dataset.site}{size}"


# --- source text --------------------------------------------------------------


def _line_span(pos: A.Pos) -> A.Pos:
    """The whole line a name is on (a port, pool header or parameter)."""
    return A.Pos(pos.file, pos.line, 1, pos.line, 10**6)


def _header_span(decl) -> A.Pos:
    """A param whole; other declarations up to the end of their first line."""
    pos = decl.pos
    if isinstance(decl, A.Param):
        return pos
    return A.Pos(pos.file, pos.line, pos.column, pos.line, 10**6)


def _header(sources: SourceCache, pos: A.Pos) -> str:
    """Source text without the `{` that opens a body."""
    return _source(sources, pos).strip().removesuffix("{").rstrip()


def _source(sources: SourceCache, pos: A.Pos) -> str:
    lines = []
    for n in range(pos.line, pos.end_line + 1):
        text = sources.line(pos.file, n) or ""
        start = pos.column - 1 if n == pos.line else 0
        end = pos.end_column - 1 if n == pos.end_line else len(text)
        lines.append(text[start:end])
    return "\n".join(lines)
