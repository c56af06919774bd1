"""Priorities and bounds computed once per problem: HEFT's upward rank, PEFT's
optimistic cost table, the fastest remaining path, the lower bound."""

from __future__ import annotations

from math import inf

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


def optimistic_cost_table(problem: Problem) -> list[list[float]]:
    """PEFT's OCT[u][p]: the shortest possible time from u finishing on pool p
    to the end, assuming unlimited capacity, with real transfer times.

    Plain Python (numpy, once used for units with many successors, was a
    fifth of a second to import for every `mlc plan`): the same sums in the
    same order as the array code was, so the same floats."""
    k = len(problem.pools)
    sites = problem.pool_site
    routes = problem.routes
    lat_rows = [[routes.latency[a][b] for b in sites] for a in sites]
    inv_rows = [[routes.inv_bandwidth[a][b] for b in sites] for a in sites]
    # Pools a unit may not use count as infinitely slow.
    run_rows = [[inf] * k for _ in range(problem.n)]
    for u, opts in enumerate(problem.options):
        row, times = run_rows[u], problem.runtime[u]
        for p in opts:
            row[p] = times[p]
    rows = [[0.0] * k for _ in range(problem.n)]
    pools = range(k)
    for u in reversed(range(problem.n)):
        succs = problem.succs[u]
        if not succs:
            continue
        row = [0.0] * k
        for v, size, carries in succs:
            base = [a + b for a, b in zip(rows[v], run_rows[v])]
            if not carries:
                # Nothing moves: every pool of u sees the successor's best
                # pool alike (base + 0.0 * latency + 0.0 * time per byte is
                # base exactly: both are finite).
                best = min(base)
                for p in pools:
                    if best > row[p]:
                        row[p] = best
                continue
            z = float(size)
            for p in pools:
                lat_p, inv_p = lat_rows[p], inv_rows[p]
                best = min([base[w] + 1.0 * lat_p[w] + z * inv_p[w] for w in pools])
                if best > row[p]:
                    row[p] = best
        rows[u] = row
    return rows


def row_means(table: list[list[float]]) -> list[float]:
    """Each row's mean, as numpy's `mean(axis=1)` gives it (pairwise
    summation): PEFT's priorities, which order ties, stay what they were."""
    return [_pairwise(row, 0, len(row)) / len(row) if row else 0.0 for row in table]


def _pairwise(a: list[float], first: int, n: int) -> float:
    """numpy's pairwise sum of a[first:first + n], in its order."""
    if n < 8:
        total = 0.0
        for i in range(first, first + n):
            total += a[i]
        return total
    if n <= 128:
        r = a[first:first + 8]
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += a[first + i + j]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(i, n):
            total += a[first + i]
        return total
    half = n // 2
    half -= half % 8
    return _pairwise(a, first, half) + _pairwise(a, first + half, n - half)


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
