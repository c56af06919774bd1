"""Pool capacity over time: which node of a pool can take a job, and when.

Each node keeps its free cpus, memory and GPUs as a step function of time
(breakpoints, the last step lasting forever). A job needs all three on ONE
node for its whole run, so finding a start is a scan of the steps after the
ready time for a window long enough: insertion into gaps comes for free.
"""

from __future__ import annotations

from bisect import bisect_right
from math import inf, nextafter

# How many steps of a node's profile a job may look through for a gap before
# it is placed after the node's last busy stretch. HEFT's insertion is
# exact up to here; the cap bounds the cost on long, busy profiles.
INSERTION_STEPS = 32


class Node:
    __slots__ = ("cpus", "gpus", "memory", "times")

    def __init__(self, cpus: int, memory: int, gpus: int) -> None:
        self.times = [0.0]
        self.cpus = [cpus]
        self.memory = [memory]
        self.gpus = [gpus]

    def copy(self) -> Node:
        other = Node.__new__(Node)
        other.times, other.cpus = self.times[:], self.cpus[:]
        other.memory, other.gpus = self.memory[:], self.gpus[:]
        return other

    def earliest(self, ready: float, cpus: int, memory: int, gpus: int, duration: float, limit: float = inf) -> float:
        """The earliest start >= ready with the job fitting throughout; inf
        when there is none before `limit`. Gaps are searched for up to
        INSERTION_STEPS steps after `ready`; past that, the job goes after the
        node's last busy stretch, which keeps a long profile cheap."""
        times, fc, fm, fg = self.times, self.cpus, self.memory, self.gpus
        last = len(times) - 1
        i = bisect_right(times, ready) - 1
        start = ready
        stop = i + INSERTION_STEPS
        while start < limit:
            if fc[i] >= cpus and fm[i] >= memory and fg[i] >= gpus:
                if i == last or times[i + 1] >= start + duration:
                    return start
                i += 1
            else:
                if i == last:
                    return inf  # a service holds the node for ever
                i += 1
                start = times[i]
            if i > stop:
                start = max(start, self._free_from(cpus, memory, gpus))
                return start if start < limit else inf
        return inf

    def _free_from(self, cpus: int, memory: int, gpus: int) -> float:
        """The start of the last stretch, up to for ever, where the job fits."""
        i = len(self.times) - 1
        fc, fm, fg = self.cpus, self.memory, self.gpus
        if not (fc[i] >= cpus and fm[i] >= memory and fg[i] >= gpus):
            return inf
        while i > 0 and fc[i - 1] >= cpus and fm[i - 1] >= memory and fg[i - 1] >= gpus:
            i -= 1
        return self.times[i]

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
        first = self._split(start)
        stop = self._split(finish) if finish < inf else len(self.times)
        for i in range(first, stop):
            self.cpus[i] -= cpus
            self.memory[i] -= memory
            self.gpus[i] -= gpus


class PoolCapacity:
    """The nodes of one pool. Nodes are taken in index order, so the used
    ones are always a prefix and one empty node stands for all the others."""

    __slots__ = ("nodes", "size", "used")

    def __init__(self, count: int, cpus: int, memory: int, gpus: int) -> None:
        self.size = (cpus, memory, gpus)
        self.nodes = [Node(cpus, memory, gpus) for _ in range(count)]
        self.used = 0

    def copy(self) -> PoolCapacity:
        other = PoolCapacity.__new__(PoolCapacity)
        other.size, other.used = self.size, self.used
        other.nodes = [node.copy() for node in self.nodes]
        return other

    def earliest(self, ready: float, cpus: int, memory: int, gpus: int, duration: float, limit: float = inf) -> tuple[float, int]:
        """(start, node): the earliest start on any node, lowest node on ties;
        (inf, -1) when no node can start the job before `limit`."""
        if ready >= limit:
            return inf, -1
        if self.used < len(self.nodes):
            # An empty node starts the job at `ready`, which no node beats:
            # a used node is only worth a look if it can start it then too.
            at_once = nextafter(ready, inf)
            for k in range(self.used):
                if self.nodes[k].earliest(ready, cpus, memory, gpus, duration, at_once) <= ready:
                    return ready, k
            return ready, self.used
        best, best_node = limit, -1
        for k in range(self.used):
            start = self.nodes[k].earliest(ready, cpus, memory, gpus, duration, best)
            if start < best:
                best, best_node = start, k
                if start <= ready:
                    return best, best_node
        return (best, best_node) if best_node >= 0 else (inf, -1)

    def reserve(self, node: int, start: float, finish: float, cpus: int, memory: int, gpus: int) -> None:
        self.nodes[node].reserve(start, finish, cpus, memory, gpus)
        if node >= self.used:
            self.used = node + 1


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
