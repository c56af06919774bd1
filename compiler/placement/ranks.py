"""Priorities and bounds computed once per problem: HEFT's upward rank, PEFT's
optimistic cost table, the fastest remaining path, the lower bound."""

from __future__ import annotations

from math import inf

import numpy as np

from .model import Problem


def _mean_link(problem: Problem) -> tuple[float, float]:
    """Average latency and seconds-per-byte over ordered pairs of distinct
    pools (zero within a site): HEFT's mean communication cost."""
    k = len(problem.pools)
    if k < 2:
        return 0.0, 0.0
    sites = problem.pool_site
    routes = problem.routes
    lat = inv = 0.0
    for a in range(k):
        for b in range(k):
            if a != b and sites[a] != sites[b]:
                lat += routes.latency[sites[a]][sites[b]]
                inv += routes.inv_bandwidth[sites[a]][sites[b]]
    pairs = k * (k - 1)
    return lat / pairs, inv / pairs


def mean_runtime(problem: Problem) -> list[float]:
    return [
        0.0 if problem.is_service[u] or not opts else sum(problem.runtime[u][p] for p in opts) / len(opts)
        for u, opts in enumerate(problem.options)
    ]


def fastest_runtime(problem: Problem) -> list[float]:
    return [
        0.0 if problem.is_service[u] or not opts else min(problem.runtime[u][p] for p in opts)
        for u, opts in enumerate(problem.options)
    ]


def upward_rank(problem: Problem) -> list[float]:
    """HEFT: mean run time plus the longest mean-cost path to an exit."""
    mean_lat, mean_inv = _mean_link(problem)
    weight = mean_runtime(problem)
    rank = [0.0] * problem.n
    for u in reversed(range(problem.n)):
        tail = 0.0
        for v, size, carries in problem.succs[u]:
            comm = mean_lat + size * mean_inv if carries else 0.0
            tail = max(tail, comm + rank[v])
        rank[u] = weight[u] + tail
    return rank


def remaining_path(problem: Problem) -> list[float]:
    """Per unit, the longest chain of fastest run times after it (itself
    excluded, transfers ignored): a unit finishing later than deadline minus
    this makes the deadline impossible."""
    fastest = fastest_runtime(problem)
    after = [0.0] * problem.n
    for u in reversed(range(problem.n)):
        after[u] = max((fastest[v] + after[v] for v, _, _ in problem.succs[u]), default=0.0)
    return after


SMALL_FAN_OUT = 16  # successors up to which a unit's OCT row is computed without numpy


def optimistic_cost_table(problem: Problem) -> np.ndarray:
    """PEFT's OCT[u, p]: the shortest possible time from u finishing on pool p
    to the end, assuming unlimited capacity, with real transfer times."""
    k = len(problem.pools)
    sites = np.array(problem.pool_site)
    routes = problem.routes
    latency = np.array(routes.latency)[np.ix_(sites, sites)]
    inv = np.array(routes.inv_bandwidth)[np.ix_(sites, sites)]
    # Pools a unit may not use count as infinitely slow.
    runtime = np.full((problem.n, k), inf)
    for u, opts in enumerate(problem.options):
        runtime[u, opts] = [problem.runtime[u][p] for p in opts]
    # Few successors (most units): plain Python over lists, the same sums in
    # the same order as the array code below (identical floats), without
    # numpy's per-call cost; many successors: arrays.
    rows = [[0.0] * k for _ in range(problem.n)]
    lat_rows, inv_rows, run_rows = latency.tolist(), inv.tolist(), runtime.tolist()
    pools = range(k)
    for u in reversed(range(problem.n)):
        succs = problem.succs[u]
        if not succs:
            continue
        if len(succs) <= SMALL_FAN_OUT:
            row = [0.0] * k
            for v, size, carries in succs:
                base = [a + b for a, b in zip(rows[v], run_rows[v])]
                c, z = (1.0, float(size)) if carries else (0.0, 0.0)
                for p in pools:
                    lat_p, inv_p = lat_rows[p], inv_rows[p]
                    best = min(base[w] + c * lat_p[w] + z * inv_p[w] for w in pools)
                    if best > row[p]:
                        row[p] = best
            rows[u] = row
            continue
        index = [v for v, _, _ in succs]
        sizes = np.array([float(size) if carries else 0.0 for _, size, carries in succs])
        carried = np.array([1.0 if carries else 0.0 for _, _, carries in succs])
        # via[v, p, w]: successor v on pool w after u on pool p
        via = (np.array([rows[v] for v in index]) + runtime[index])[:, None, :] + carried[:, None, None] * latency + sizes[:, None, None] * inv
        rows[u] = np.maximum(via.min(axis=2).max(axis=0), 0.0).tolist()
    return np.array(rows, dtype=float).reshape(problem.n, k)


def lower_bound(problem: Problem) -> float:
    """No plan is shorter than the critical path at the fastest speeds, nor
    than the cpu-, memory- or GPU-seconds the units need (each on its
    fastest pool) spread over everything all nodes offer of that resource."""
    fastest = fastest_runtime(problem)
    path = [0.0] * problem.n
    for u in range(problem.n):
        path[u] = fastest[u] + max((path[q] for q, _, _ in problem.preds[u]), default=0.0)
    bound = max(path, default=0.0)
    pools = problem.pools
    offered = (
        sum(pool.nodes * pool.cpus for pool in pools),
        sum(pool.nodes * pool.memory for pool in pools),
        sum(pool.nodes * pool.gpus.count for pool in pools if pool.gpus),
    )
    for r, total in enumerate(offered):
        needed = sum(
            problem.demand[u][r] * fastest[u]
            for u in range(problem.n)
            if not problem.is_service[u] and problem.options[u]
        )
        if total:
            bound = max(bound, needed / total)
    return bound


def min_running_cost(problem: Problem) -> list[float]:
    return [
        0.0 if problem.is_service[u] or not opts else min(problem.rate[u][p] * problem.runtime[u][p] for p in opts)
        for u, opts in enumerate(problem.options)
    ]
