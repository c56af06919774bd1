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
        demand = problem.demand[u]
        gang = problem.gang[u]
        if gang is not None:  # a multi-node or shaped stage: per node, on as many distinct nodes
            *per_node, count = gang[schedule.pool[u]]
            demand = tuple(per_node)
            assert len(set(schedule.node[u])) == len(schedule.node[u]) == count, problem.names[u]
        for node in schedule.node[u]:
            jobs.setdefault((schedule.pool[u], node), []).append((schedule.start[u], end, demand))
    for (p, node), items in jobs.items():
        pool = problem.pools[p]
        assert 0 <= node < pool.nodes
        size = (pool.cpus, pool.memory, pool.gpus.count if pool.gpus else 0)
        for instant, _, _ in items:
            running = [d for s, f, d in items if s <= instant + EPS and f > instant + EPS]
            for r in range(3):
                assert sum(d[r] for d in running) <= size[r], (pool.id, node, instant)


def check_nodes_held(problem: Problem, schedule: Schedule) -> None:
    """At every start instant, the stages running on a pool hold at most as
    many nodes as it has, counting each gang's nodes all at once (a plain
    unit holds one node, which others may share)."""
    for p, pool in enumerate(problem.pools):
        on_pool = [u for u in range(problem.n) if schedule.pool[u] == p]
        for v in on_pool:
            instant = schedule.start[v]
            held: set[int] = set()
            for u in on_pool:
                end = float("inf") if problem.is_service[u] else schedule.finish[u]
                if schedule.start[u] <= instant + EPS and end > instant + EPS:
                    held.update(schedule.node[u])
            assert len(held) <= pool.nodes, (pool.id, instant, len(held))
            assert all(0 <= node < pool.nodes for node in held)
