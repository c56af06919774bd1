"""The exact placer: a MILP over the same model as the list scheduler
(node-level packing by cpus, memory and GPUs; transfer times and egress by
site pair), solved by HiGHS through `scipy.optimize.milp`.

It is for small problems (a few dozen stage instances at most) and measures
the heuristic: `mlc plan --exact` (exact_check.py), the tests and the
benchmark. It never chooses the compiled plan, so that the plan does not
depend on whether scipy (the `exact` extra) is installed, nor on which of
several optima a HiGHS version returns.

Capacity is exact in continuous time: a node's load peaks at the start of
some job, so it suffices that at every job's start the jobs still running on
its node, plus itself, fit. Per pair of jobs that could share a node,
`first[u,v]` = u comes before v in a linear order of starts (so u starts no
later than v) and `before[u,v]` = u finishes before v starts; u is running at
v's start on node k when both are on k, first[u,v] = 1 and before[u,v] = 0.
"""

from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from math import inf

from ..ir import Objective
from .model import Problem
from .schedule import Schedule

DEFAULT_TIME_LIMIT = 20.0
DEFAULT_NODE_LIMIT = 5000  # branch-and-bound nodes: bounds the work reproducibly


@contextmanager
def _quiet_stdout():
    """Some HiGHS builds print debugging lines from C++ even with disp=False;
    they must not end up in `mlc plan`'s output."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def available() -> bool:
    """Whether the `exact` extra (scipy, which carries HiGHS) can be used."""
    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Solved:
    schedule: Schedule | None
    optimal: bool
    bound: float  # a lower bound on the objective value (its main term)
    note: str
    infeasible: bool = False  # proven: no plan keeps the deadline and budget


class _Model:
    """Columns and rows of a sparse MILP, built incrementally."""

    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.cost: list[float] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def var(self, low: float, high: float, binary: bool = False) -> int:
        self.lower.append(low)
        self.upper.append(high)
        self.integer.append(1 if binary else 0)
        self.cost.append(0.0)
        return len(self.lower) - 1

    def row(self, coefs: dict[int, float], low: float = -inf, high: float = inf) -> None:
        self.rows.append((coefs, low, high))


def _add(target: dict[int, float], terms: dict[int, float], scale: float = 1.0) -> dict[int, float]:
    for col, coef in terms.items():
        target[col] = target.get(col, 0.0) + coef * scale
    return target


def _ancestors(problem: Problem) -> list[int]:
    """Bit sets: bit q of ancestors[u] when q must finish before u starts."""
    anc = [0] * problem.n
    for u in range(problem.n):
        for q, _, _ in problem.preds[u]:
            anc[u] |= anc[q] | (1 << q)
    return anc


def _horizon(problem: Problem) -> float:
    """A makespan no semi-active schedule exceeds: everything in sequence."""
    routes = problem.routes
    every = [routes, routes.store or routes]
    worst_move = max((r.latency[a][b] + r.inv_bandwidth[a][b] for r in every
                      for a in range(len(problem.sites)) for b in range(len(problem.sites))), default=0.0)
    total = 0.0
    for u in range(problem.n):
        total += max((problem.runtime[u][p] for p in problem.options[u]), default=0.0)
        for _, size, _ in problem.preds[u]:
            total += worst_move * max(size, 1)  # an edge that carries nothing costs a byte's move too
        for item in problem.datasets[u]:
            total += worst_move * max(item.size, 1)
    return total


def solve(
    problem: Problem,
    objective: Objective,
    known_makespan: float | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    node_limit: int = DEFAULT_NODE_LIMIT,
) -> Solved:
    """Solve the MILP; raises ImportError without scipy (see `available`)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    if any(problem.is_service):
        return Solved(None, False, 0.0, "the exact placer does not model services")

    n, routes, pools = problem.n, problem.routes, problem.pools
    nsites = len(problem.sites)
    horizon = _horizon(problem)
    if known_makespan is not None and objective.kind == "makespan" and objective.budget is None:
        # A plan this long exists (the heuristic's): the optimum is no longer.
        horizon = min(horizon, known_makespan)
    if objective.deadline is not None:
        horizon = min(horizon, objective.deadline)
    longest = max((problem.runtime[u][p] for u in range(n) for p in problem.options[u]), default=0.0)
    big = horizon + longest + 1.0

    m = _Model()
    # y[u][(p, k)]: unit u on node k of pool p. Symmetry: the i-th unit in
    # order never needs a node index above i.
    users = {p: [u for u in range(n) if p in problem.options[u]] for p in range(len(pools))}
    y: list[dict[tuple[int, int], int]] = [{} for _ in range(n)]
    for p, us in users.items():
        for rank, u in enumerate(us):
            for k in range(min(pools[p].nodes, rank + 1)):
                y[u][(p, k)] = m.var(0, 1, True)
    start = [m.var(0, horizon) for _ in range(n)]
    makespan = m.var(0, horizon)

    duration = [{col: problem.runtime[u][p] for (p, _), col in y[u].items()} for u in range(n)]
    at_site = [
        [{col: 1.0 for (p, _), col in y[u].items() if problem.pool_site[p] == s} for s in range(nsites)]
        for u in range(n)
    ]
    money: dict[int, float] = {}
    for u in range(n):
        m.row({col: 1.0 for col in y[u].values()}, 1, 1)
        _add(money, {col: problem.rate[u][p] * problem.runtime[u][p] for (p, _), col in y[u].items()})
        # makespan >= start + duration
        m.row(_add({makespan: 1.0, start[u]: -1.0}, duration[u], -1.0), 0)

    for v in range(n):
        for q, size, carries in problem.preds[v]:
            m.row(_add({start[v]: 1.0, start[q]: -1.0}, duration[q], -1.0), 0)
            if not carries:
                continue
            for a in range(nsites):
                for b in range(nsites):
                    if a == b or not at_site[q][a] or not at_site[v][b]:
                        continue
                    move = routes.seconds(a, b, size)
                    row = _add({start[v]: 1.0, start[q]: -1.0}, duration[q], -1.0)
                    _add(_add(row, at_site[q][a], -move), at_site[v][b], -move)
                    m.row(row, -move)
        for item in problem.datasets[v]:
            for b in range(nsites):
                if b != item.site and at_site[v][b]:
                    m.row(_add({start[v]: 1.0}, at_site[v][b], -routes.of(item).seconds(item.site, b, item.size)), 0)

    _egress(problem, m, money, at_site)
    _capacity(problem, m, y, start, duration, users, big)

    if objective.deadline is not None:
        m.row({makespan: 1.0}, high=objective.deadline)
    if objective.budget is not None:
        m.row(dict(money), high=objective.budget)
    if objective.kind == "cost":
        for col, coef in money.items():
            m.cost[col] += coef
    elif objective.kind == "weighted":
        m.cost[makespan] += objective.time_weight / 3600
        for col, coef in money.items():
            m.cost[col] += objective.cost_weight * coef
    else:
        m.cost[makespan] = 1.0

    rows, cols, vals = [], [], []
    for r, (coefs, _, _) in enumerate(m.rows):
        for col, coef in coefs.items():
            rows.append(r)
            cols.append(col)
            vals.append(coef)
    matrix = coo_array((vals, (rows, cols)), shape=(len(m.rows), len(m.lower))).tocsr()
    with _quiet_stdout():
        result = milp(
            m.cost,
            constraints=LinearConstraint(matrix, [r[1] for r in m.rows], [r[2] for r in m.rows]),
            integrality=m.integer,
            bounds=Bounds(m.lower, m.upper),
            options={"time_limit": time_limit, "node_limit": node_limit, "disp": False},
        )
    bound = getattr(result, "mip_dual_bound", None)
    bound = float(bound) if bound is not None and not math.isnan(bound) else 0.0
    if result.x is None:
        infeasible = result.status == 2
        verdict = "infeasible" if infeasible else "found no plan within its limits"
        return Solved(None, False, bound, f"exact MILP: {verdict}", infeasible)
    optimal = result.status == 0
    schedule = _schedule(problem, result.x, y, start, optimal)
    if optimal:
        bound = float(result.fun)
    note = "exact MILP: optimal" if optimal else "exact MILP: stopped at its limits, not proven optimal"
    return Solved(schedule, optimal, bound, note)


def _egress(problem: Problem, m: _Model, money: dict[int, float], at_site) -> None:
    """One charge per (data, target site), like the plan's transfers."""
    routes = problem.routes
    nsites = len(problem.sites)
    charged: dict[tuple, int] = {}
    for v in range(problem.n):
        for item in problem.reads[v]:
            for b in range(nsites):
                if not at_site[v][b]:
                    continue
                sources = [item.site] if item.producer < 0 else [a for a in range(nsites) if at_site[item.producer][a]]
                for a in sources:
                    price = routes.of(item).money(a, b, item.size)
                    if a == b or price <= 0:
                        continue
                    key = (item.key, a, b)
                    if key not in charged:
                        charged[key] = m.var(0, 1)
                        money[charged[key]] = price
                    row = _add({charged[key]: 1.0}, at_site[v][b], -1.0)
                    if item.producer >= 0:
                        _add(row, at_site[item.producer][a], -1.0)
                        m.row(row, -1.0)
                    else:
                        m.row(row, 0.0)


def _capacity(problem: Problem, m: _Model, y, start, duration, users, big: float) -> None:
    anc = _ancestors(problem)
    first: dict[tuple[int, int], int] = {}
    before: dict[tuple[int, int], int] = {}

    def ordering(u: int, v: int) -> None:
        if (u, v) in first:
            return
        for a, b in ((u, v), (v, u)):
            first[(a, b)] = m.var(0, 1, True)
            before[(a, b)] = m.var(0, 1, True)
            # first[a,b] = 1  =>  start[a] <= start[b]
            m.row({start[b]: 1.0, start[a]: -1.0, first[(a, b)]: -big}, -big)
            # before[a,b] = 1  =>  start[a] + duration[a] <= start[b]
            m.row(_add({start[b]: 1.0, start[a]: -1.0, before[(a, b)]: -big}, duration[a], -1.0), -big)
        m.row({first[(u, v)]: 1.0, first[(v, u)]: 1.0}, 1, 1)

    for p, us in sorted(users.items()):
        pool = problem.pools[p]
        size = (pool.cpus, pool.memory, pool.gpus.count if pool.gpus else 0)
        together = [sum(problem.demand[u][r] for u in us) for r in range(3)]
        tight = [r for r in range(3) if together[r] > size[r]]
        if not tight:
            continue  # everything that may run here fits on one node at once
        for v in us:
            for k in range(pool.nodes):
                if (p, k) not in y[v]:
                    continue
                overlap: dict[int, int] = {}
                for u in us:
                    if u == v or (p, k) not in y[u] or anc[u] >> v & 1 or anc[v] >> u & 1:
                        continue
                    ordering(u, v)
                    running = m.var(0, 1)
                    # running >= y[u,k] + y[v,k] + first[u,v] - before[u,v] - 2
                    m.row({running: 1.0, y[u][(p, k)]: -1.0, y[v][(p, k)]: -1.0, first[(u, v)]: -1.0, before[(u, v)]: 1.0}, -2)
                    overlap[u] = running
                if not overlap:
                    continue
                for r in tight:
                    row = {col: float(problem.demand[u][r]) for u, col in overlap.items() if problem.demand[u][r]}
                    if row:
                        row[y[v][(p, k)]] = float(problem.demand[v][r])
                        m.row(row, high=size[r])
    # `first` must be a linear order: jobs that start together are then
    # counted by the last of them, which no 3-cycle could dodge.
    ordered = sorted({u for u, _ in first})
    for i, u in enumerate(ordered):
        for j, v in enumerate(ordered[i + 1 :], i + 1):
            if (u, v) not in first:
                continue
            for w in ordered[j + 1 :]:
                if (v, w) in first and (u, w) in first:
                    m.row({first[(u, v)]: 1.0, first[(v, w)]: 1.0, first[(w, u)]: 1.0}, high=2)
                    m.row({first[(v, u)]: 1.0, first[(w, v)]: 1.0, first[(u, w)]: 1.0}, high=2)


def _schedule(problem: Problem, x, y, start, optimal: bool) -> Schedule:
    pool_of, node_of = [0] * problem.n, [[0] for _ in range(problem.n)]
    for u in range(problem.n):
        (p, k), _ = max(y[u].items(), key=lambda item: x[item[1]])
        pool_of[u], node_of[u] = p, [k]
    begin = [max(0.0, float(x[start[u]])) for u in range(problem.n)]
    end = [begin[u] + problem.runtime[u][pool_of[u]] for u in range(problem.n)]
    run_cost = [problem.rate[u][pool_of[u]] * problem.runtime[u][pool_of[u]] for u in range(problem.n)]
    return Schedule(
        pool=pool_of,
        node=node_of,
        start=begin,
        finish=end,
        run_cost=run_cost,
        egress_cost=egress_cost(problem, pool_of),
        makespan=max(end, default=0.0),
        algorithm="milp" + ("" if optimal else " (not proven optimal)"),
        order=sorted(range(problem.n), key=lambda u: (begin[u], problem.names[u])),
    )


def egress_cost(problem: Problem, pool_of: list[int]) -> float:
    site = [problem.pool_site[p] for p in pool_of]
    charged: set[tuple[str, int]] = set()
    total = 0.0
    for v in range(problem.n):
        for item in problem.reads[v]:
            source = item.site if item.producer < 0 else site[item.producer]
            if source != site[v] and (item.key, site[v]) not in charged:
                charged.add((item.key, site[v]))
                total += problem.routes.of(item).money(source, site[v], item.size)
    return total
