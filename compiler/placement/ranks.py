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
        0.0 if service or not opts else sum(map(row.__getitem__, opts)) / len(opts)
        for service, row, opts in zip(problem.is_service, problem.runtime, problem.options)
    ]


def fastest_runtime(problem: Problem) -> list[float]:
    """Per unit, its run time on its fastest pool (0 for a service). Kept
    on the problem, which never changes once built: the bound and every
    policy read it."""
    found = problem.fastest
    if found is None:
        found = problem.fastest = [
            0.0 if service or not opts else min(map(row.__getitem__, opts))
            for service, row, opts in zip(problem.is_service, problem.runtime, problem.options)
        ]
    return found


def upward_rank(problem: Problem) -> list[float]:
    """HEFT: mean run time plus the longest mean-cost path to an exit.
    Each unit, once its rank is known (its successors come later in the
    order), pushes what it offers to its predecessors' tails: the graph
    is read along `preds`, and the max over an edge set is the same float
    in any order."""
    mean_lat, mean_inv = _mean_link(problem)
    weight = mean_runtime(problem)
    rank = [0.0] * problem.n
    tail = [0.0] * problem.n
    preds = problem.preds
    for v in reversed(range(problem.n)):
        mine = rank[v] = weight[v] + tail[v]
        for q, size, carries in preds[v]:
            t = (mean_lat + size * mean_inv + mine) if carries else 0.0 + mine
            if t > tail[q]:  # max(tail, t), without the call: the same float
                tail[q] = t
    return rank


def remaining_path(problem: Problem) -> list[float]:
    """Per unit, the longest chain of fastest run times after it (itself
    excluded, transfers ignored): a unit finishing later than deadline minus
    this makes the deadline impossible. Pushed along `preds`, as
    `upward_rank` is."""
    fastest = fastest_runtime(problem)
    after = [0.0] * problem.n  # run times are never negative: max(..., default=0.0)
    preds = problem.preds
    for v in reversed(range(problem.n)):
        t = fastest[v] + after[v]
        for q, _, _ in preds[v]:
            if t > after[q]:
                after[q] = t
    return after


def optimistic_cost_table(problem: Problem) -> list[list[float]]:
    """PEFT's OCT[u][p]: the shortest possible time from u finishing on pool p
    to the end, assuming unlimited capacity, with real transfer times.

    Plain Python (numpy, once used for units with many successors, was a
    fifth of a second to import for every `mlc plan`): the same floats as
    the array code gave (tests/placement/test_oct.py)."""
    routes = problem.routes
    # Pools of one site see the same routes, so their rows are equal: the
    # table is computed per site and spread over the pools at the end.
    # Within a site the successor's pools differ only by their base (the
    # successor's row plus its run time there), and rounding is monotone:
    # the least of base + latency + time per byte over a site's pools is
    # the least base of that site plus them, the same float.
    site_ids = sorted(set(problem.pool_site))
    m = len(site_ids)
    site_of = [site_ids.index(s) for s in problem.pool_site]
    lat_rows = [[routes.latency[a][b] for b in site_ids] for a in site_ids]
    inv_rows = [[routes.inv_bandwidth[a][b] for b in site_ids] for a in site_ids]
    runtime, options = problem.runtime, problem.options
    per_site = [[0.0] * m for _ in range(problem.n)]
    # Per unit, the least base over each site's pools and over all pools
    # (the pools it may not use count as infinitely slow), once per unit
    # rather than once per edge into it.
    least = [[inf] * m for _ in range(problem.n)]
    least_all = [inf] * problem.n
    sites = range(m)
    others = range(1, m)
    # Each unit, once its row is complete (its successors come later in the
    # order), pushes what it offers to its predecessors' rows (`upward_rank`).
    preds = problem.preds
    for v in reversed(range(problem.n)):
        times, mins = runtime[v], least[v]
        row = per_site[v]
        for p in options[v]:
            base = row[site_of[p]] + times[p]
            if base < mins[site_of[p]]:
                mins[site_of[p]] = base
        anywhere = least_all[v] = min(mins, default=inf)
        for q, size, carries in preds[v]:
            into = per_site[q]
            if not carries:
                # Nothing moves: every pool of q sees v's best pool alike.
                for j in sites:
                    if anywhere > into[j]:
                        into[j] = anywhere
                continue
            z = float(size)
            for j in sites:
                lat_j, inv_j = lat_rows[j], inv_rows[j]
                # min() over the sites, inline (no list, no call per edge
                # and site): the first least value, as min() keeps it.
                best = mins[0] + 1.0 * lat_j[0] + z * inv_j[0]
                for t in others:
                    x = mins[t] + 1.0 * lat_j[t] + z * inv_j[t]
                    if x < best:
                        best = x
                if best > into[j]:
                    into[j] = best
    return [[row[j] for j in site_of] for row in per_site]


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
    preds = problem.preds
    for u in range(problem.n):
        longest = 0.0  # paths are never negative: max(..., default=0.0)
        for q, _, _ in preds[u]:
            if path[q] > longest:
                longest = path[q]
        path[u] = fastest[u] + longest
    bound = max(path, default=0.0)
    pools = problem.pools
    offered = (
        sum(pool.nodes * pool.cpus for pool in pools),
        sum(pool.nodes * pool.memory for pool in pools),
        sum(pool.nodes * pool.gpus.count for pool in pools if pool.gpus),
    )
    # Summed in unit order, as sum() over the units would.
    needed = [0, 0, 0]
    for demand, time, service, opts in zip(problem.demand, fastest, problem.is_service, problem.options):
        if not service and opts:
            needed[0] += demand[0] * time
            needed[1] += demand[1] * time
            needed[2] += demand[2] * time
    for r, total in enumerate(offered):
        if total:
            bound = max(bound, needed[r] / total)
    return bound


def min_running_cost(problem: Problem) -> list[float]:
    return [
        0.0 if service or not opts else min([rate[p] * row[p] for p in opts])
        for service, rate, row, opts in zip(problem.is_service, problem.rate, problem.runtime, problem.options)
    ]
