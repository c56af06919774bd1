"""Pool capacity over time: which node of a pool can take a job, and when.

Each node keeps its free cpus, memory and GPUs as a step function of time
(breakpoints, the last step lasting forever). A job needs all three on ONE
node for its whole run. For every demand it is asked about, a node also
keeps the maximal intervals where that demand fits (`Fits`), sorted and
updated in place by each reservation: the earliest start of a job is then a
binary search for the first interval ending after its ready time and a walk
over the intervals too short for it (insertion into gaps, exact at any
profile length), never a walk over the steps.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from math import inf, nan, nextafter


class Fits:
    """The maximal intervals [starts[i], ends[i]) where one demand fits on a
    node, in time order; the last may end at inf (the node's free tail)."""

    __slots__ = ("ends", "starts")

    def __init__(self, starts: list[float], ends: list[float]) -> None:
        self.starts, self.ends = starts, ends

    def copy(self) -> Fits:
        return Fits(self.starts[:], self.ends[:])

    def tail(self) -> float:
        """Where the intervals start when they are one that lasts for ever
        (a job of this demand fits from then on, and never before); NaN
        otherwise."""
        ends = self.ends
        return self.starts[0] if len(ends) == 1 and ends[0] == inf else nan


class Node:
    __slots__ = ("cpus", "fits", "gpus", "memory", "times")

    def __init__(self, cpus: int, memory: int, gpus: int) -> None:
        self.times = [0.0]
        self.cpus = [cpus]
        self.memory = [memory]
        self.gpus = [gpus]
        self.fits: dict[tuple[int, int, int], Fits] = {}

    def copy(self) -> Node:
        other = Node.__new__(Node)
        other.times, other.cpus = self.times[:], self.cpus[:]
        other.memory, other.gpus = self.memory[:], self.gpus[:]
        other.fits = {key: fits.copy() for key, fits in self.fits.items()}
        return other

    def fits_for(self, cpus: int, memory: int, gpus: int) -> Fits:
        """The intervals where the demand fits, built on first use (one pass
        over the steps) and kept up to date by `reserve` afterwards."""
        key = (cpus, memory, gpus)
        found = self.fits.get(key)
        if found is None:
            found = self.fits[key] = Fits(*self._runs(0, len(self.times), cpus, memory, gpus))
        return found

    def _runs(self, first: int, stop: int, cpus: int, memory: int, gpus: int) -> tuple[list[float], list[float]]:
        """The maximal runs of steps first..stop-1 where the demand fits, as
        (starts, ends); the last run ends where step stop begins (inf past
        the last step)."""
        times, fc, fm, fg = self.times, self.cpus, self.memory, self.gpus
        starts: list[float] = []
        ends: list[float] = []
        inside = False
        for i in range(first, stop):
            ok = fc[i] >= cpus and fm[i] >= memory and fg[i] >= gpus
            if ok and not inside:
                starts.append(times[i])
            elif inside and not ok:
                ends.append(times[i])
            inside = ok
        if inside:
            ends.append(times[stop] if stop < len(times) else inf)
        return starts, ends

    def earliest(self, ready: float, cpus: int, memory: int, gpus: int, duration: float, limit: float = inf) -> float:
        """The earliest start >= ready with the job fitting throughout; inf
        when there is none before `limit`."""
        fits = self.fits_for(cpus, memory, gpus)
        starts, ends = fits.starts, fits.ends
        for i in range(bisect_right(ends, ready), len(ends)):
            start = starts[i]
            if start < ready:
                start = ready
            if start >= limit:
                return inf
            if ends[i] >= start + duration:
                return start
        return inf

    def _split(self, t: float) -> int:
        """The index of the step starting exactly at t, creating it."""
        i = bisect_right(self.times, t) - 1
        if self.times[i] == t:
            return i
        i += 1
        self.times.insert(i, t)
        self.cpus.insert(i, self.cpus[i - 1])
        self.memory.insert(i, self.memory[i - 1])
        self.gpus.insert(i, self.gpus[i - 1])
        return i

    def reserve(self, start: float, finish: float, cpus: int, memory: int, gpus: int) -> None:
        self._add(start, finish, -cpus, -memory, -gpus)

    def release(self, start: float, finish: float, cpus: int, memory: int, gpus: int) -> None:
        """Give back what a reservation holds over [start, finish) (a
        service stopped before the end of time)."""
        self._add(start, finish, cpus, memory, gpus)

    def _add(self, start: float, finish: float, cpus: int, memory: int, gpus: int) -> None:
        times = self.times
        if start >= times[-1] and finish > start and cpus <= 0 and memory <= 0 and gpus <= 0:
            self._take_from_tail(start, finish, cpus, memory, gpus)
            return
        first = self._split(start)
        stop = self._split(finish) if finish < inf else len(times)
        if first >= stop:
            return
        if len(self.fits) == 1 and cpus <= 0 and memory <= 0 and gpus <= 0:
            self._take_one_demand(first, stop, start, finish, cpus, memory, gpus)
            return
        free_cpus, free_memory, free_gpus = self.cpus, self.memory, self.gpus
        for i in range(first, stop):
            free_cpus[i] += cpus
            free_memory[i] += memory
            free_gpus[i] += gpus
        grown = cpus >= 0 and memory >= 0 and gpus >= 0
        if grown:
            for key, fits in self.fits.items():
                self._refit(fits, key, first, stop, start, finish, True)
            return
        low_cpus = low_memory = low_gpus = -inf  # no demand is skipped unless all three shrank
        if cpus <= 0 and memory <= 0 and gpus <= 0:
            # What a reservation leaves free over [start, finish): a demand
            # that still fits all of it fitted all of it before, so its
            # intervals are unchanged (the common case: a node with room to spare).
            low_cpus, low_memory = min(free_cpus[first:stop]), min(free_memory[first:stop])
            low_gpus = min(free_gpus[first:stop])
        for key, fits in self.fits.items():
            if key[0] <= low_cpus and key[1] <= low_memory and key[2] <= low_gpus:
                continue
            self._refit(fits, key, first, stop, start, finish, False)

    def _take_one_demand(self, first: int, stop: int, start: float, finish: float,
                         cpus: int, memory: int, gpus: int) -> None:
        """The rest of `_add` for a reservation on a node that keeps the
        intervals of one demand (the common case: the jobs of a pool alike):
        one pass over steps first..stop-1 takes the reservation and finds
        where the demand still fits, which `_refit` would find in a second."""
        times, free_cpus, free_memory, free_gpus = self.times, self.cpus, self.memory, self.gpus
        ((c, m, g), fits), = self.fits.items()
        starts: list[float] = []
        ends: list[float] = []
        inside = False
        everywhere = True
        for i in range(first, stop):
            left_cpus = free_cpus[i] = free_cpus[i] + cpus
            left_memory = free_memory[i] = free_memory[i] + memory
            left_gpus = free_gpus[i] = free_gpus[i] + gpus
            ok = left_cpus >= c and left_memory >= m and left_gpus >= g
            if ok:
                if not inside:
                    starts.append(times[i])
            else:
                everywhere = False
                if inside:
                    ends.append(times[i])
            inside = ok
        if everywhere:
            return  # it still fits all of [start, finish), so it fitted before: unchanged
        if inside:
            ends.append(times[stop] if stop < len(times) else inf)
        self._refit(fits, (c, m, g), first, stop, start, finish, False, (starts, ends))

    def _take_from_tail(self, start: float, finish: float, cpus: int, memory: int, gpus: int) -> None:
        """`_add` of a reservation within the last step (from its start on,
        as a job placed where a node's timeline ends is): the same steps
        and intervals, without the search and the re-fitting. A demand
        that fitted the last step and no longer fits [start, finish) loses
        that stretch from its last interval, which lasted for ever."""
        times, free_cpus, free_memory, free_gpus = self.times, self.cpus, self.memory, self.gpus
        was = free_cpus[-1], free_memory[-1], free_gpus[-1]
        if start > times[-1]:
            times.append(start)
            free_cpus.append(was[0])
            free_memory.append(was[1])
            free_gpus.append(was[2])
        if finish < inf:
            times.append(finish)
            free_cpus.append(was[0])
            free_memory.append(was[1])
            free_gpus.append(was[2])
            at = -2
        else:
            at = -1
        left = was[0] + cpus, was[1] + memory, was[2] + gpus
        free_cpus[at], free_memory[at], free_gpus[at] = left
        for (c, m, g), fits in self.fits.items():
            if not (c <= was[0] and m <= was[1] and g <= was[2]) or c <= left[0] and m <= left[1] and g <= left[2]:
                continue  # never fitted there, or still does: unchanged
            starts, ends = fits.starts, fits.ends
            if starts[-1] < start:
                ends[-1] = start
            else:
                starts.pop()
                ends.pop()
            if finish < inf:
                starts.append(finish)
                ends.append(inf)

    def _refit(self, fits: Fits, key: tuple[int, int, int], first: int, stop: int, start: float, finish: float,
               grown: bool, runs: tuple[list[float], list[float]] | None = None) -> None:
        """Free capacity changed only in [start, finish), all one way: the
        intervals overlapping it (or, when it grew, touching it, which it
        may join) keep their parts outside it and, inside, are replaced by
        the runs of steps that fit now (`runs`, when the caller has them)."""
        starts, ends = fits.starts, fits.ends
        if grown:
            j0, j1 = bisect_left(ends, start), bisect_right(starts, finish)
        else:
            j0, j1 = bisect_right(ends, start), bisect_left(starts, finish)
            if j0 >= j1:
                return  # nothing fitted there before, so nothing does now
        new_starts, new_ends = runs or self._runs(first, stop, *key)
        head, tail = (starts[j0], ends[j1 - 1]) if j0 < j1 else (start, finish)
        if head < start:
            if new_starts and new_starts[0] == start:
                new_starts[0] = head
            else:
                new_starts.insert(0, head)
                new_ends.insert(0, start)
        if tail > finish:
            if new_ends and new_ends[-1] == finish:
                new_ends[-1] = tail
            else:
                new_starts.append(finish)
                new_ends.append(tail)
        starts[j0:j1] = new_starts
        ends[j0:j1] = new_ends


class PoolCapacity:
    """The nodes of one pool. Nodes are taken in index order, so the used
    ones are always a prefix and one empty node stands for all the others.

    Per demand, `tails` holds each node's `Fits.tail()` and `mixed` counts
    the nodes that have none (their intervals are not one that lasts for
    ever): while every node has one, as when jobs of one demand keep every
    node full, a full pool answers `earliest_of` from that list alone."""

    __slots__ = ("bounds", "mixed", "nodes", "size", "tails", "used")

    def __init__(self, count: int, cpus: int, memory: int, gpus: int) -> None:
        self.size = (cpus, memory, gpus)
        self.nodes = [Node(cpus, memory, gpus) for _ in range(count)]
        self.used = 0
        # Per demand, each node's intervals (its Fits' own starts and ends,
        # which reservations change in place): what the searches read.
        self.bounds: dict[tuple[int, int, int], list[tuple[list[float], list[float]]]] = {}
        self.tails: dict[tuple[int, int, int], list[float]] = {}
        self.mixed: dict[tuple[int, int, int], int] = {}

    def copy(self) -> PoolCapacity:
        other = PoolCapacity.__new__(PoolCapacity)
        other.size, other.used = self.size, self.used
        other.nodes = [node.copy() for node in self.nodes]
        other.bounds, other.tails, other.mixed = {}, {}, {}  # rebuilt on first use, from the nodes' own
        return other

    def _fits(self, cpus: int, memory: int, gpus: int) -> list[tuple[list[float], list[float]]]:
        key = (cpus, memory, gpus)
        found = self.bounds.get(key)
        if found is None:
            fits = [node.fits_for(cpus, memory, gpus) for node in self.nodes]
            found = self.bounds[key] = [(f.starts, f.ends) for f in fits]
            tails = self.tails[key] = [f.tail() for f in fits]
            self.mixed[key] = sum(1 for tail in tails if tail != tail)
        return found

    def _changed(self, node: int) -> None:
        """Keep `tails` and `mixed` true after node `node` changed."""
        for key, bounds in self.bounds.items():
            tails = self.tails[key]
            starts, ends = bounds[node]
            # Fits.tail(), from the lists: once per reservation and demand.
            before, after = tails[node], (starts[0] if len(ends) == 1 and ends[0] == inf else nan)
            if (before != before) != (after != after):  # NaN: no tail
                self.mixed[key] += 1 if after != after else -1
            tails[node] = after

    def earliest(self, ready: float, cpus: int, memory: int, gpus: int, duration: float, limit: float = inf) -> tuple[float, int]:
        """(start, node): the earliest start on any node, lowest node on ties;
        (inf, -1) when no node can start the job before `limit`."""
        return self.earliest_of(ready, (cpus, memory, gpus), duration, limit)

    def earliest_of(self, ready: float, demand: tuple[int, int, int], duration: float,
                    limit: float = inf) -> tuple[float, int]:
        """`earliest` for a demand given as one (cpus, memory, gpus) tuple,
        the key its intervals are kept under. The search of
        `Node.earliest`, inlined: this is the placer's hot loop."""
        if ready >= limit:
            return inf, -1
        bounds = self.bounds.get(demand)
        if bounds is None:
            bounds = self._fits(*demand)
        used = self.used
        if used < len(self.nodes):
            # An empty node starts the job at `ready`, which no node beats:
            # a used node is only worth a look if it can start it then too.
            need = ready + duration
            for k in range(used):
                starts, ends = bounds[k]
                i = bisect_right(ends, ready)
                if i < len(ends) and starts[i] <= ready and ends[i] >= need:
                    return ready, k
            return ready, used
        if used and not self.mixed[demand]:  # (a pool of no nodes has no tails)
            # Each node takes the job from its tail's start on, and only
            # then: the lowest node whose tail has begun by `ready`, else
            # the node whose tail begins first.
            tails = self.tails[demand]
            first = min(tails)
            if first > ready:
                return (first, tails.index(first)) if first < limit else (inf, -1)
            for k, tail in enumerate(tails):
                if tail <= ready:
                    return ready, k
        best, best_node = limit, -1
        for k in range(used):
            starts, ends = bounds[k]
            i = bisect_right(ends, ready)
            count = len(ends)
            # Most nodes are settled by their first interval: a while loop,
            # not a range object per node.
            while i < count:
                start = starts[i]
                if start < ready:
                    start = ready
                if start >= best:
                    break
                if ends[i] >= start + duration:
                    if start <= ready:
                        return start, k  # no node starts it earlier, and this is the lowest that can
                    best, best_node = start, k
                    break
                i += 1
        return (best, best_node) if best_node >= 0 else (inf, -1)

    def reserve(self, node: int, start: float, finish: float, cpus: int, memory: int, gpus: int) -> None:
        self.nodes[node]._add(start, finish, -cpus, -memory, -gpus)  # Node.reserve without its frame
        if self.bounds:
            self._changed(node)
        if node >= self.used:
            self.used = node + 1

    def release(self, node: int, start: float, finish: float, cpus: int, memory: int, gpus: int) -> None:
        self.nodes[node].release(start, finish, cpus, memory, gpus)
        if self.bounds:
            self._changed(node)


def earliest_gang(cap: PoolCapacity, ready: float, cpus: int, memory: int, gpus: int, count: int,
                  duration: float, limit: float = inf) -> tuple[float, list[int]]:
    """(start, nodes): the earliest start at which `count` distinct nodes of
    the pool each hold the job for its whole run (a multi-node stage holds
    all its nodes at once); (inf, []) when none is found before `limit`.

    From `at` (first `ready`), each used node's earliest start is found as
    for a one-node job; the count-th earliest of them is the first instant
    that can work. When fewer nodes than that hold the job there (a gap
    closed before it), `at` moves to it and the search repeats: it only
    moves forward, over the nodes' finitely many steps. Unused nodes are
    all alike and take the job at any instant."""
    if count > len(cap.nodes) or ready >= limit:
        return inf, []
    idle = list(range(cap.used, len(cap.nodes)))
    need = count - len(idle)
    if need <= 0:
        return ready, idle[:count]
    used = cap.nodes[:cap.used]
    at = ready
    while at < limit:
        starts = sorted((node.earliest(at, cpus, memory, gpus, duration, limit), k) for k, node in enumerate(used))
        candidate = starts[need - 1][0]
        if candidate >= limit:
            return inf, []
        just_after = nextafter(candidate, inf)
        holding = [k for start, k in starts if start <= candidate
                   and used[k].earliest(candidate, cpus, memory, gpus, duration, just_after) <= candidate]
        if len(holding) >= need:
            return candidate, sorted(holding[:need]) + idle
        at = candidate if candidate > at else nextafter(at, inf)
    return inf, []


def reserve_gang(cap: PoolCapacity, nodes: list[int], start: float, finish: float,
                 cpus: int, memory: int, gpus: int) -> None:
    for node in nodes:
        cap.reserve(node, start, finish, cpus, memory, gpus)
