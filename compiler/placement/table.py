"""`mlc plan`: the plan as a text table, one row per unit, then totals."""

from __future__ import annotations

from ..fit import human_duration, human_size
from ..ir import Experiment, Plan

_HEADER = ("unit", "site/pool", "start", "finish", "cost", "reason")


def _money(value: float) -> str:
    return f"{value:.2f}"


def render_table(experiment: Experiment, plan: Plan) -> str:
    rows = [_HEADER]
    for a in plan.assignments:
        finish = "(service)" if a.kind == "service" else human_duration(a.finish)
        rows.append((a.unit, f"{a.site}/{a.pool}", human_duration(a.start), finish, _money(a.cost), a.reason))
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER) - 1)]
    right = {2, 3, 4}  # numbers align right
    lines = []
    for row in rows:
        cells = [row[i].rjust(w) if i in right else row[i].ljust(w) for i, w in enumerate(widths)]
        lines.append("  ".join(cells + [row[-1]]).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths) + "  ------")
    ratio = plan.makespan / plan.lower_bound if plan.lower_bound > 0 else 1.0
    lines.append("")
    lines.append(
        f"makespan {human_duration(plan.makespan)}  money {_money(plan.cost)}  "
        f"egress {human_size(plan.egress_bytes)} in {len(plan.transfers)} transfer"
        f"{'s' if len(plan.transfers) != 1 else ''}"
    )
    lines.append(
        f"lower bound {human_duration(plan.lower_bound)} (makespan is {ratio:.2f}x the bound)  "
        f"algorithm {plan.algorithm}"
    )
    lines.extend(f"note: {text}" for text in plan.notes)
    return "\n".join(lines) + "\n"
