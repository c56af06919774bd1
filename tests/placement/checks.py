"""Independent checks of a schedule against the model: the properties every
plan must have, whichever algorithm produced it."""

from __future__ import annotations

from compiler.fit import shortfalls
from compiler.placement.model import Problem
from compiler.placement.schedule import Schedule

EPS = 1e-6


def check_schedule(problem: Problem, schedule: Schedule) -> None:
    exp = problem.experiment
    routes = problem.routes
    site = [problem.pool_site[p] for p in schedule.pool]
    for u in range(problem.n):
        p = schedule.pool[u]
        pool = problem.pools[p]
        name = problem.names[u]
        # Pins, exclusions, resources, max_time: hard constraints.
        assert not shortfalls(exp, problem.units[u], pool), (name, pool.id)
        if problem.is_service[u]:
            assert schedule.finish[u] == schedule.start[u]
        else:
            assert schedule.finish[u] >= schedule.start[u] + problem.runtime[u][p] - EPS, name
        for q, size, carries in problem.preds[u]:
            move = routes.seconds(site[q], site[u], size) if carries else 0.0
            assert schedule.start[u] >= schedule.finish[q] + move - EPS, (name, problem.names[q])
        for item in problem.datasets[u]:
            assert schedule.start[u] >= routes.seconds(item.site, site[u], item.size) - EPS, name
        assert schedule.makespan >= schedule.finish[u] - EPS
    check_capacity(problem, schedule)


def check_capacity(problem: Problem, schedule: Schedule) -> None:
    """At every start instant, the jobs running on each node fit the node
    (load peaks at some start, so these instants suffice)."""
    jobs: dict[tuple[int, int], list[tuple[float, float, tuple[int, int, int]]]] = {}
    for u in range(problem.n):
        end = float("inf") if problem.is_service[u] else schedule.finish[u]
        for node in schedule.node[u]:
            jobs.setdefault((schedule.pool[u], node), []).append((schedule.start[u], end, problem.demand[u]))
    for (p, node), items in jobs.items():
        pool = problem.pools[p]
        assert 0 <= node < pool.nodes
        size = (pool.cpus, pool.memory, pool.gpus.count if pool.gpus else 0)
        for instant, _, _ in items:
            running = [d for s, f, d in items if s <= instant + EPS and f > instant + EPS]
            for r in range(3):
                assert sum(d[r] for d in running) <= size[r], (pool.id, node, instant)
