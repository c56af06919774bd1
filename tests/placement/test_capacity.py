"""The indexed free-time structure of capacity.py answers exactly as a plain
scan of the step function would, on random reservation sequences."""

from __future__ import annotations

from math import inf

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.placement.capacity import Node, PoolCapacity

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SIZE = (8, 16, 2)  # cpus, memory, gpus of every node


class Naive:
    """The reference: every reservation kept as is, free capacity summed at
    each candidate start, every breakpoint after the ready time tried."""

    def __init__(self) -> None:
        self.jobs: list[tuple[float, float, int, int, int]] = []

    def free(self, t: float) -> tuple[int, int, int]:
        used = [sum(job[2 + r] for job in self.jobs if job[0] <= t < job[1]) for r in range(3)]
        return tuple(SIZE[r] - used[r] for r in range(3))

    def fits(self, start: float, duration: float, demand: tuple[int, int, int]) -> bool:
        points = [start] + [t for job in self.jobs for t in job[:2] if start < t < start + duration]
        return all(all(f >= d for f, d in zip(self.free(t), demand)) for t in points)

    def earliest(self, ready: float, demand: tuple[int, int, int], duration: float, limit: float) -> float:
        candidates = sorted({ready} | {t for job in self.jobs for t in job[:2] if ready < t < inf})
        for t in candidates:
            if t >= limit:
                return inf
            if self.fits(t, duration, demand):
                return t
        return inf


demands = st.tuples(st.integers(0, 8), st.integers(0, 16), st.integers(0, 2))
times = st.integers(0, 40).map(float)
steps = st.lists(
    st.tuples(st.sampled_from(["place", "overbook", "shorten"]), times, st.integers(0, 12).map(float), demands,
              st.sampled_from([inf, 20.0, 1e9])),
    min_size=1, max_size=30,
)


@PROPERTY
@given(steps)
def test_a_node_answers_as_a_scan_of_its_steps(sequence):
    node, naive = Node(*SIZE), Naive()
    for action, ready, duration, demand, limit in sequence:
        expected = naive.earliest(ready, demand, duration, limit)
        assert node.earliest(ready, *demand, duration, limit) == expected
        if action == "place" and expected < inf:
            # As the scheduler does: reserve where the search said; now and
            # then for ever, as a service does.
            finish = inf if duration == 12.0 else expected + duration
            node.reserve(expected, finish, *demand)
            naive.jobs.append((expected, finish, *demand))
        elif action == "overbook":
            # A reservation anywhere (it may overbook): the index must follow
            # whatever the profile becomes.
            node.reserve(ready, ready + duration, *demand)
            naive.jobs.append((ready, ready + duration, *demand))
        elif action == "shorten":
            # A service stopped: the last job held for ever ends at `ready`
            # (or at its start, if that is later).
            held = [k for k, job in enumerate(naive.jobs) if job[1] == inf]
            if held:
                start, _, *used = naive.jobs[held[-1]]
                end = max(start, ready)
                node.release(end, inf, *used)
                naive.jobs[held[-1]] = (start, end, *used)


@PROPERTY
@given(st.integers(1, 3), st.lists(st.tuples(times, st.integers(0, 12).map(float), demands), min_size=1, max_size=25))
def test_a_pool_takes_the_earliest_node_lowest_on_ties(count, sequence):
    pool = PoolCapacity(count, *SIZE)
    naive = [Naive() for _ in range(count)]
    for ready, duration, demand in sequence:
        # The lowest unused node stands for every unused one.
        starts = [naive[k].earliest(ready, demand, duration, inf) for k in range(min(pool.used + 1, count))]
        best = min(starts)
        expected = (best, starts.index(best)) if best < inf else (inf, -1)
        assert pool.earliest(ready, *demand, duration) == expected
        if best < inf:
            start, k = expected
            pool.reserve(k, start, start + duration, *demand)
            naive[k].jobs.append((start, start + duration, *demand))


@PROPERTY
@given(st.integers(1, 4), st.lists(st.tuples(st.sampled_from([0.0, 0.0, 0.0, 2.0, 5.0, 9.0, 30.0]),
                                             st.integers(1, 3).map(float), st.integers(0, 12),
                                             st.sampled_from([inf, inf, 6.0, 12.0])),
                                   min_size=1, max_size=40))
def test_a_full_pool_of_whole_node_jobs_answers_as_the_scan_does(count, sequence):
    """Jobs that each take a whole node leave each node, most of the time,
    one stretch free for ever (`PoolCapacity.tails`), which a full pool
    answers from; a gap left before a job, a smaller job now and then, and
    a service held for ever and stopped later break the stretch. Every
    answer must be the scan's: the earliest start, the lowest node on ties."""
    pool = PoolCapacity(count, *SIZE)
    naive = [Naive() for _ in range(count)]
    held: list[tuple[int, float]] = []  # (node, start) of services held for ever
    for ready, duration, choice, limit in sequence:
        if choice == 0 and held:
            k, start = held.pop()
            end = max(start, ready)
            pool.release(k, end, inf, *SIZE)
            naive[k].jobs[naive[k].jobs.index((start, inf, *SIZE))] = (start, end, *SIZE)
            continue
        demand = (4, 8, 1) if choice == 1 else SIZE
        starts = [naive[k].earliest(ready, demand, duration, limit) for k in range(min(pool.used + 1, count))]
        best = min(starts)
        expected = (best, starts.index(best)) if best < inf else (inf, -1)
        assert pool.earliest(ready, *demand, duration, limit) == expected
        if best < inf:
            start, k = expected
            finish = inf if choice == 2 else start + duration
            if finish == inf:
                held.append((k, start))
            pool.reserve(k, start, finish, *demand)
            naive[k].jobs.append((start, finish, *demand))


def test_a_copy_is_independent():
    node = Node(*SIZE)
    node.reserve(0.0, 10.0, 8, 0, 0)
    assert node.earliest(0.0, 8, 0, 0, 1.0) == 10.0
    other = node.copy()
    other.reserve(10.0, 20.0, 8, 0, 0)
    assert node.earliest(0.0, 8, 0, 0, 1.0) == 10.0
    assert other.earliest(0.0, 8, 0, 0, 1.0) == 20.0


def test_a_release_joins_the_gap_before_it():
    node = Node(*SIZE)
    assert node.earliest(0.0, 4, 0, 0, 10.0) == 0.0  # builds the index for this demand
    node.reserve(5.0, inf, 8, 0, 0)  # a service from t=5 on
    assert node.earliest(0.0, 4, 0, 0, 10.0) == inf
    node.release(5.0, inf, 8, 0, 0)  # stopped at once
    assert node.earliest(0.0, 4, 0, 0, 10.0) == 0.0
