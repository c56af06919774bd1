"""`mlc report`: the records of an output folder as text, JSON or a
self-contained HTML page with an SVG of estimated against measured time."""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from pathlib import Path

from . import store
from .summary import Group, groups, human, memory_text


def render(folder: Path, fmt: str) -> str:
    runs, steps = store.read(folder)
    summary = groups(steps)
    if fmt == "json":
        return json.dumps({"folder": str(folder), "runs": len(runs), "steps": len(steps),
                           "groups": [g.as_dict() for g in summary],
                           "run_records": [_run_json(r, steps) for r in runs]}, indent=2)
    if fmt == "html":
        return _html(folder, len(runs), summary)
    return _text(folder, len(runs), summary)


def _run_json(run: store.Run, steps: list[store.Step]) -> dict:
    """One run with its steps as recorded: what they used, where, and their
    inputs' and outputs' sizes and checksums."""
    listed = []
    for step in steps:
        if step.run_id != run.run_id:
            continue
        row = asdict(step)
        del row["run_id"]
        for key in ("nodes", "params", "inputs", "outputs"):
            row[key] = store.decode(row[key])
        listed.append(row)
    return {"run_id": run.run_id, "outcome": run.outcome, "status": run.status, "started": run.started,
            "ended": run.ended, "params": store.decode(run.params), "steps": listed}


def _pct(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "-"


def _columns(g: Group) -> list[str]:
    elapsed = "-" if g.elapsed_median_s is None else (
        f"{human(g.elapsed_median_s)} ({human(g.elapsed_min_s)}-{human(g.elapsed_max_s)})")
    memory = "-" if g.max_rss_bytes is None else (
        f"{memory_text(g.max_rss_bytes)} of {memory_text(g.memory_asked_bytes or 0)}")
    limit = "-" if g.elapsed_max_s is None or not g.time_limit_s else (
        f"{_pct(g.elapsed_max_s / g.time_limit_s)} of {human(g.time_limit_s)}")
    others = [f"+{n} {what}" for n, what in ((g.failed, "failed"), (g.reused, "re-used"),
                                             (g.interrupted, "interrupted")) if n]
    return [g.stage, g.pool, f"{g.runs}" + (f" ({', '.join(others)})" if others else ""), elapsed,
            human(g.estimate_s) if g.estimate_s is not None else "-", _pct(g.cpu_efficiency), memory, limit]


_HEAD = ["stage", "pool", "runs", "elapsed: median (min-max)", "estimate", "CPU eff.", "memory used", "time used"]


def _text(folder: Path, runs: int, summary: list[Group]) -> str:
    if not summary:
        return f"{folder}: no runs recorded yet (`mlc run` records them)"
    rows = [_HEAD, *(_columns(g) for g in summary)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEAD))]
    lines = [f"{folder}: {runs} run{'s' if runs != 1 else ''} recorded"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    hints = [(g, s) for g in summary for s in g.suggestions]
    if hints:
        lines.append("suggestions:")
        lines += [f"  {g.stage} on {g.pool}: {s}" for g, s in hints]
    return "\n".join(lines)


def _svg(summary: list[Group]) -> str:
    """Horizontal bars per (stage, pool): estimated (hollow) over measured median (filled)."""
    shown = [g for g in summary if g.elapsed_median_s is not None and g.estimate_s is not None]
    if not shown:
        return "<p>No measured run times yet.</p>"
    top = max(max(g.elapsed_median_s, g.estimate_s) for g in shown) or 1.0
    label, bar, row = 220, 400, 34
    height = 30 + row * len(shown)
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{label + bar + 120}" height="{height}" '
              'role="img" aria-label="estimated and measured time per stage">'),
             '<text x="0" y="14" font-size="12">hollow: estimated; filled: measured median</text>']
    for i, g in enumerate(shown):
        y = 26 + i * row
        est, got = bar * g.estimate_s / top, bar * g.elapsed_median_s / top
        name = html.escape(f"{g.stage} on {g.pool}")
        parts += [
            f'<text x="0" y="{y + 16}" font-size="12">{name}</text>',
            f'<rect x="{label}" y="{y}" width="{est:.1f}" height="12" fill="none" stroke="#555"/>',
            f'<rect x="{label}" y="{y + 14}" width="{got:.1f}" height="12" fill="#3b7dd8"/>',
            (f'<text x="{label + max(est, got) + 6:.1f}" y="{y + 22}" font-size="11">'
             f'{html.escape(human(g.estimate_s))} / {html.escape(human(g.elapsed_median_s))}</text>'),
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def _html(folder: Path, runs: int, summary: list[Group]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _HEAD)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in _columns(g)) + "</tr>"
                     for g in summary)
    hints = "\n".join(f"<li><code>{html.escape(g.stage)}</code> on {html.escape(g.pool)}: "
                      f"<code>{html.escape(s)}</code></li>" for g in summary for s in g.suggestions)
    title = html.escape(f"mlc report: {folder}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}</style></head>
<body><h1>{title}</h1><p>{runs} run{'s' if runs != 1 else ''} recorded.</p>
<table><tr>{head}</tr>
{body}
</table>
<h2>Estimated and measured time</h2>
{_svg(summary)}
<h2>Suggestions</h2><ul>
{hints or '<li>none</li>'}
</ul></body></html>
"""
