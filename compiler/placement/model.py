"""The placement problem as flat arrays, built once from the IR.

The schedulers run their hot loops over these lists (indices, not names or
pydantic objects), so the per-unit work is a few list look-ups.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter, itemgetter
from typing import NamedTuple


from .. import shapes
from ..fit import shortfalls
from ..ir import (
    NO_ITEMS,
    DataRef,
    DatasetRef,
    Estimate,
    Experiment,
    OutputRef,
    Pool,
    Resources,
    Service,
    Site,
    StageInstance,
)
from ..sites import reach, registry
from . import reachability

Unit = StageInstance | Service
INF = math.inf
GB = 1e9

# Two sites with no declared path between them still exchange data (through
# the internet, a laptop, a USB disk), only slowly: 10 Mbit/s, 100 ms, free.
# Slow enough that the scheduler avoids it whenever anything else works.
NO_LINK_BANDWIDTH = 1.25e6
NO_LINK_LATENCY = 0.1


def estimate_keys(pool: Pool) -> tuple[str, ...]:
    """The keys of `Estimate.by_key` that apply to a pool, most specific first:
    pool id, GPU type, site."""
    gpu = (pool.gpus.type,) if pool.gpus is not None and pool.gpus.type else ()
    return (pool.id, *gpu, pool.site)


def estimate_seconds(estimate: Estimate, pool: Pool, keys: tuple[str, ...] | None = None) -> float:
    """The most specific key wins; else the default scaled by the pool's
    speed: never, at a speed that is not positive (the front end rejects it;
    placement must not divide by it either way)."""
    if estimate.by_key:
        for key in keys or estimate_keys(pool):
            if key in estimate.by_key:
                return estimate.by_key[key]
    if not pool.speed > 0:
        return INF
    return estimate.default / pool.speed


def node_share(unit: Unit, pool: Pool) -> float:
    """The fraction of a node a unit occupies: what it pays for."""
    res = unit.resources
    parts = [res.cpus / pool.cpus if pool.cpus else 0.0, res.memory / pool.memory if pool.memory else 0.0]
    if res.gpus and res.gpus.count and pool.gpus and pool.gpus.count:
        parts.append(res.gpus.count / pool.gpus.count)
    return min(1.0, max(parts))


class DataItem(NamedTuple):
    """One piece of data a unit reads: a producer's output or a data set.
    Its first three fields are its key, in place (no tuple per item): items
    sort by it, and no two items of one unit's reads share it."""

    of: str  # "dataset" or "output"
    name: str  # the data set's name, or the producing instance's id
    output: str  # the output's name; "" for a data set
    producer: int  # unit index, or -1 for a data set
    site: int  # the data set's site; -1 for outputs (the producer's site)
    size: int
    path: str
    kind: str  # file | dir
    store: bool = False  # a data set read from an object-store path (s3://, gs://)
    # A dense number per key (0 .. Problem.slots - 1): the schedulers index
    # lists by it where a dict would hash the key's strings on every read.
    slot: int = -1

    @property
    def key(self) -> tuple[str, ...]:
        """("dataset", name) or ("output", instance, output)."""
        return (self.of, self.name) if self.of == "dataset" else (self.of, self.name, self.output)

    @property
    def ref(self) -> DataRef:
        """The key as the IR names it in a Transfer: made when a transfer
        or an error needs it (most items never move; a model per edge was a
        quarter of building the problem)."""
        if self.of == "dataset":
            return DatasetRef(dataset=self.name)
        return OutputRef(instance=self.name, output=self.output)


@dataclass
class Routes:
    """What moving data between two sites costs, by the route the transfer
    takes there (`kind`): a direct copy crosses the link between the two
    sites; a relay crosses the links workflow machine <-> each end, streamed
    (no copy on disk), so the slower hop sets the pace. `store` holds the
    same for data read from an object-store path at the source site."""

    latency: list[list[float]]
    inv_bandwidth: list[list[float]]  # seconds per byte
    egress: list[list[float]]  # money per byte
    kind: list[list[str]]  # "direct-pull" | "direct-push" | "relay" | "via-store" | reach.NO_ROUTE
    workflow: int  # the workflow machine: a local site's index, or len(sites) when none is one
    linked: list[list[bool]]  # a link is declared between two ends (workflow machine included)
    store: Routes | None = None

    def hops(self, a: int, b: int, kind: str) -> list[tuple[int, int]]:
        """The ends each leg of a route joins."""
        return [(a, self.workflow), (self.workflow, b)] if kind == "relay" else [(a, b)]

    def seconds(self, a: int, b: int, size: float) -> float:
        if a == b:
            return 0.0
        return self.latency[a][b] + size * self.inv_bandwidth[a][b]

    def money(self, a: int, b: int, size: float) -> float:
        return 0.0 if a == b else size * self.egress[a][b]

    def of(self, item: DataItem) -> Routes:
        """The routes `item` takes from its source."""
        return self.store if item.store and self.store is not None else self


@dataclass
class Problem:
    experiment: Experiment
    units: list[Unit]  # topological order, ties by declaration order
    names: list[str]
    is_service: list[bool]
    sites: list[Site]
    pools: list[Pool]
    pool_site: list[int]
    runtime: list[list[float]]  # [unit][pool] seconds; INF where it cannot run
    options: list[list[int]]  # pools a unit may use, preferred first on ties
    over_limit: list[bool]  # its estimate exceeds its own time limit on every option
    demand: list[tuple[int, int, int]]  # cpus, memory, gpus per replica (a gang's: all its nodes', its smallest shape)
    # Per pool (cpus, memory, gpus per node, nodes) of a multi-node or shaped
    # stage, whose demand depends on the pool; None for the others.
    gang: list[list[tuple[int, int, int, int]] | None]
    shape: list[list[int | None] | None]  # per pool, the shape a shaped stage runs in there
    replicas: list[int]
    rate: list[list[float]]  # money per second of running on a pool
    preds: list[list[tuple[int, int, bool]]]  # (producer, bytes, carries data), in name order
    # The units waiting for each, in name order, as plain ints: the passes
    # that walk the graph backwards push along `preds` instead, so no pass
    # needs the bytes this way (121,598 tuples fewer at SRASearch-20,000).
    succs: list[list[int]]
    reads: list[list[DataItem]]
    datasets: list[list[DataItem]]  # the data sets among `reads`
    routes: Routes
    index: dict[str, int] = field(default_factory=dict)
    # Every unit's index in name order (`names` sorted): the order the list
    # schedules break priority ties in, made once by `_order`.
    by_name: list[int] = field(default_factory=list)
    slots: int = 0  # DataItem.slot runs from 0 to this, exclusive
    # Services: reach[a][b] says how a unit on site b reaches a service on
    # site a (None: it cannot); uses[u], the services unit u is bound to;
    # unreachable, what `reachability.narrow` found impossible.
    reach: list[list[str | None]] = field(default_factory=list)
    uses: list[list[int]] = field(default_factory=list)
    unreachable: list[tuple] = field(default_factory=list)
    # Per pool, seconds before its queue would start anything (`mlc plan
    # --live`); empty: no wait anywhere.
    pool_wait: list[float] = field(default_factory=list)
    # Per unit, its run time on its fastest pool: made by
    # ranks.fastest_runtime on first use (the bound and every policy read it).
    fastest: list[float] | None = None

    @property
    def n(self) -> int:
        return len(self.units)


def _links(experiment: Experiment, sites: list[Site], workflow: int) -> tuple[list[list[float]], ...]:
    """The best declared link between every two ends (index `workflow` is the
    workflow machine); INF latency where none is declared."""
    at = {site.name: i for i, site in enumerate(sites)}
    k = max(len(sites), workflow + 1)
    lat = [[INF] * k for _ in range(k)]
    inv = [[INF] * k for _ in range(k)]
    egr = [[0.0] * k for _ in range(k)]
    for i in range(k):
        lat[i][i] = inv[i][i] = 0.0
    for link in experiment.links:
        if link.source not in at or link.target not in at or not link.bandwidth > 0:
            continue  # a link that carries nothing is no link (the front end rejects it)
        ends = [(at[link.source], at[link.target])]
        if link.symmetric:
            ends.append((at[link.target], at[link.source]))
        for a, b in ends:
            if link.latency + GB / link.bandwidth < lat[a][b] + GB * inv[a][b]:
                lat[a][b], inv[a][b], egr[a][b] = link.latency, 1 / link.bandwidth, link.egress / GB
    return lat, inv, egr


def _routes(experiment: Experiment, sites: list[Site], store: bool = False) -> Routes:
    # The workflow machine: the first site that is this machine, else a
    # place of its own with no declared links.
    workflow = next((i for i, s in enumerate(sites) if registry.of(s).is_workflow_machine), len(sites))
    lat, inv, egr = _links(experiment, sites, workflow)

    def hop(a: int, b: int) -> tuple[float, float, float]:
        if a == b:
            return 0.0, 0.0, 0.0
        if lat[a][b] < INF:
            return lat[a][b], inv[a][b], egr[a][b]
        return NO_LINK_LATENCY, 1 / NO_LINK_BANDWIDTH, 0.0  # slow, so the scheduler avoids it

    k = len(sites)
    routes = Routes([[0.0] * k for _ in range(k)], [[0.0] * k for _ in range(k)], [[0.0] * k for _ in range(k)],
                    [["direct-pull"] * k for _ in range(k)],
                    workflow, [[x < INF for x in row] for row in lat])
    for a in range(k):
        for b in range(k):
            kind = reach.choose(reach.end_of(sites[a], store), reach.end_of(sites[b]))
            # via-store is priced as the link between the two ends (the bucket
            # is taken to sit by the cluster); a transfer with no route is
            # reported once placed (E0806), priced here as a direct one.
            if kind == "relay":
                (l1, i1, e1), (l2, i2, e2) = hop(a, workflow), hop(workflow, b)
                price = (l1 + l2, max(i1, i2), e1 + e2)
            else:
                price = hop(a, b)
            routes.latency[a][b], routes.inv_bandwidth[a][b], routes.egress[a][b] = price
            routes.kind[a][b] = kind
    if not store:
        routes.store = _routes(experiment, sites, store=True)
    return routes


_Pairs = list[tuple[str, str]] | tuple[()]  # (producer, output) pairs, as the IR's inputs hold them


class _Ordered(NamedTuple):
    """The units in the problem's order and what `_order` learnt on the way,
    by unit index."""

    units: list[Unit]
    names: list[str]
    sources: list[list[int]]  # the units each waits for, in name order (`Problem.preds`)
    named: list[_Pairs]  # the (producer, output) pairs its inputs name, in order (`_named_outputs`)
    succs: list[list[int]]  # the units waiting for each, in name order (`Problem.succs`)
    by_name: list[int]  # every unit's index, in name order (`Problem.by_name`)


def _order(experiment: Experiment) -> _Ordered:
    """Topological, ties by name (the order of Plan.assignments): Kahn's
    algorithm taking the smallest ready name first. Also each unit's
    sources (`_sources`) and the units waiting for it, as indices in that
    order, the (producer, output) pairs its inputs name (for `_reads`:
    the inputs are walked once, not once per pass), and the indices in
    name order (the schedulers' tie order); a unit naming itself keeps
    that edge, as the front end never lets one through."""
    # A name declared twice (the front end rejects it) is its last unit.
    declared = {instance.id: instance for instance in experiment.instances}
    services = bool(experiment.services)
    if services:
        declared.update({service.name: service for service in experiment.services})
    # Every unit by its name's place in sorted order (its rank): the heap
    # and the sources are ints, cheap to compare and sort, and sorted
    # ranks are sorted names.
    names = sorted(declared)
    units = list(map(declared.__getitem__, names))
    n = len(names)
    rank_at = dict(zip(names, range(n)))
    waiting = [0] * n
    after: list[list[int]] = [[] for _ in range(n)]
    sources: list[list[int] | tuple[()]] = []
    named = []
    for r, unit in enumerate(units):
        inputs = unit.inputs
        pairs = _named_outputs(inputs)
        named.append(pairs)
        if pairs or services and inputs or unit.after:
            mine = _sources(unit, pairs, rank_at, services)
            # A unit naming itself does not wait for itself; it is in its own
            # `after`, where being released once more (below zero) does nothing.
            waiting[r] = len(mine) - (r in mine)
            for q in mine:
                after[q].append(r)
            sources.append(mine)
        else:
            sources.append(())
    ready = [r for r in range(n) if not waiting[r]]  # ascending: a heap already
    order = []
    pop, push = heapq.heappop, heapq.heappush
    while ready:
        r = pop(ready)
        order.append(r)
        for nxt in after[r]:
            waiting[nxt] -= 1
            if not waiting[nxt]:
                push(ready, nxt)
    if len(order) < n:
        raise ValueError("the units' dependencies have a cycle")  # the front end rejects these (E03xx)
    position = [0] * n
    for k, r in enumerate(order):
        position[r] = k
    at = position.__getitem__
    return _Ordered(list(map(units.__getitem__, order)), list(map(names.__getitem__, order)),
                    [list(map(at, sources[r])) if sources[r] else [] for r in order],
                    list(map(named.__getitem__, order)), [list(map(at, after[r])) for r in order], position)


def _preferred_first(unit: Unit, pools: list[Pool], allowed: list[int]) -> list[int]:
    """The order ties are broken in: pools without GPUs first for a unit
    that needs none (keep GPU nodes for GPU work), then declaration order."""
    if unit.resources.gpus and unit.resources.gpus.count:
        return allowed
    return sorted(allowed, key=lambda p: (pools[p].gpus is not None and pools[p].gpus.count > 0, p))


_RESOURCE_KEYS = tuple(name for name in Resources.model_fields if name != "time")
# A Resources' fields but its time, from its dict, in one call.
_RESOURCE_VALUES = itemgetter(*_RESOURCE_KEYS)


def _requirements(unit: Unit, limits: list[float]) -> tuple:
    """Everything `fit.shortfalls` depends on. Of the time limit, only which
    pools' `max_time` it exceeds (`limits`): stages that differ only in
    their time (a limit per task, as generated workflows set) share a check."""
    env = unit.env
    secrets = tuple(sorted([(k, v.secret) for k, v in env.items() if v.kind == "secret"])) if env else ()
    if type(unit) is Service:
        copies, lifetime, launch, shaped = unit.replicas, unit.lifetime, None, ()
    else:
        copies, lifetime = 0, None
        launch = unit.launch.kind if unit.launch is not None else None
        shaped = tuple([s.model_dump_json() for s in unit.shapes]) if unit.shapes else ()
    res = unit.resources
    if limits:
        time = res.time
        over = tuple([time > limit for limit in limits])
    else:
        over = ()
    on, not_on = unit.on, unit.not_on
    # The fields, as iterating the model gives them, without its frames.
    return (type(unit).__name__, _RESOURCE_VALUES(res.__dict__), over,  # in _RESOURCE_KEYS' order
            tuple(on) if on else (), tuple(not_on) if not_on else (), secrets, copies, lifetime, launch, shaped)


def _options(unit: Unit, pools: list[Pool], allowed: list[int], preferred: dict[tuple, list[int]]) -> list[int]:
    """The unit's pools in the order ties are broken in (`_preferred_first`).
    Only the GPU question and the pools decide it: sorted once per kind,
    kept in `preferred`; each unit gets its own copy."""
    key = (bool(unit.resources.gpus and unit.resources.gpus.count), *allowed)
    ordered = preferred.get(key)
    if ordered is None:
        ordered = preferred[key] = _preferred_first(unit, pools, allowed)
    return ordered[:]


class _Kind(NamedTuple):
    """What the single-node, unshaped units of one kind (`_requirements`)
    share, computed once for all of them."""

    fits: list[int]  # the pools it fits
    money: list[float]  # what it pays per second on each pool
    needs: tuple[int, int, int]  # what it takes of a node
    usable: list[int]  # the pools it fits that have a positive speed
    slowest_speed: float  # the least of their speeds (inf: none)
    ordered: list[int]  # `usable` in the order ties are broken in (`_options`)


def _kind(experiment: Experiment, unit: Unit, pools: list[Pool], copies: int,
          preferred: dict[tuple, list[int]]) -> _Kind:
    """For a single-node, unshaped unit: what units of its kind share (as
    the general case in `build` prices it)."""
    fits = [p for p, pool in enumerate(pools) if not shortfalls(experiment, unit, pool)]
    nodes = unit.resources.nodes
    money = [pool.price * node_share(unit, pool) * (nodes if p in fits else 1) * copies / 3600
             for p, pool in enumerate(pools)]
    usable = [p for p in fits if pools[p].speed > 0]
    return _Kind(fits, money, _per_node(unit.resources), usable, min([pools[p].speed for p in usable], default=INF),
                 _options(unit, pools, usable, preferred))


def _per_node(res) -> tuple[int, int, int]:
    return res.cpus, res.memory, res.gpus.count if res.gpus else 0


def _as_run_on(experiment: Experiment, unit: Unit, pools: list[Pool]) -> list[tuple[Unit, int | None] | None]:
    """Per pool: the unit as it would run there (a shaped stage: in its
    first shape that fits) and the shape's index; None where it cannot run."""
    out: list[tuple[Unit, int | None] | None] = []
    for pool in pools:
        if isinstance(unit, StageInstance) and unit.shapes:
            index = shapes.first_fitting(unit, pool, lambda u, q: not shortfalls(experiment, u, q))
            out.append(None if index is None else (shapes.resolve(unit, index), index))
        else:
            out.append(None if shortfalls(experiment, unit, pool) else (unit, None))
    return out


_OUTPUTS = attrgetter("outputs")


def _named_outputs(inputs: list) -> _Pairs:
    """The (producer, output) pairs a unit's inputs name, in order, as the
    IR holds them: no copies of the pairs, and the input's own list when
    one input names them all (read, never changed)."""
    if not inputs:
        return ()
    return inputs[0].outputs if len(inputs) == 1 else list(chain.from_iterable(map(_OUTPUTS, inputs)))


def _sources(unit: Unit, pairs: _Pairs, rank_at: dict[str, int], services: bool) -> list[int]:
    """The units this one waits for, as their values in `rank_at`, ascending;
    names `rank_at` lacks are left out. `pairs`: its `_named_outputs`.
    `services`: whether the experiment has any (without, no input is bound
    to one: no pass over the inputs)."""
    get = rank_at.get
    found = {get(producer, -1) for producer, _ in pairs}
    if services:
        for inp in unit.inputs:
            if inp.service is not None:
                found.add(get(inp.service, -1))  # started before it
    if unit.after:
        found.update([get(name, -1) for name in unit.after])
    found.discard(-1)
    return sorted(found)


_NONE: dict = {}  # an instance with no outputs (read-only)


def _reads(
    unit: Unit,
    pairs: _Pairs,
    datasets: dict[str, DataItem],
    outputs: dict[str, dict[str, DataItem]],
) -> list[DataItem]:
    """What the unit reads, by key. `pairs`: its `_named_outputs`. `datasets`
    and `outputs` hold every declared data set's and output's item, shared
    by all their readers (items are immutable)."""
    items: dict[int, DataItem] = {}  # by slot: one per key
    if datasets:  # none declared: no input names one, no pass over the inputs
        for inp in unit.inputs:
            if inp.dataset is not None:
                item = datasets.get(inp.dataset)
                if item is not None:
                    items[item.slot] = item
    for producer, output in pairs:
        item = outputs.get(producer, _NONE).get(output)
        if item is not None:  # None: no such output, nothing placement moves
            items[item.slot] = item
    if len(items) < 2:
        return list(items.values())
    return sorted(items.values())  # by key (the first three fields): unique, so no item compares past it


def _output_items(experiment: Experiment, index: dict[str, int]) -> tuple[dict[str, dict[str, DataItem]], int]:
    """Every instance's outputs as items, by instance and output name,
    numbered from slot 0 in declaration order, and the slots used. Made
    once for all their readers, without the NamedTuple constructor's frame
    and without an (instance, output) tuple per output to find them by."""
    item = tuple.__new__
    found: dict[str, dict[str, DataItem]] = {}
    slot = 0
    for instance in experiment.instances:
        name = instance.id
        producer = index[name]
        mine = found.setdefault(name, {})  # one id twice (the front end rejects it): as one instance
        for o in instance.outputs:
            mine[o.name] = item(DataItem, ("output", name, o.name, producer, -1, o.size, o.path, o.kind, False, slot))
            slot += 1
    return found, slot


def _dataset_items(experiment: Experiment, site_at: dict[str, int], first_slot: int) -> dict[str, DataItem]:
    """Every declared data set as an item, by name, numbered from `first_slot`."""
    found = {}
    for slot, d in enumerate(experiment.datasets, first_slot):
        kind = "dir" if d.uri.endswith("/") or "." not in d.uri.rsplit("/", 1)[-1] else "file"
        found[d.name] = DataItem("dataset", d.name, "", -1, site_at[d.site], d.size, d.uri, kind, "://" in d.uri, slot)
    return found


def never_done(problem: Problem, u: int) -> list[Pool]:
    """The pools whose resources fit unit u but which would never finish it
    (an infinite or NaN run time)."""
    unit = problem.units[u]
    return [
        pool for p, pool in enumerate(problem.pools)
        if not problem.runtime[u][p] < INF and not shortfalls(problem.experiment, unit, pool)
    ]


def build(experiment: Experiment) -> Problem:
    units, names, sources, named, succs, by_name = _order(experiment)
    index = {name: i for i, name in enumerate(names)}
    sites = list(experiment.sites)
    site_at = {s.name: i for i, s in enumerate(sites)}
    pools = [pool for site in sites for pool in site.pools]
    pool_site = [site_at[p.site] for p in pools]

    runtime, options, over_limit, rate, demand, replicas = [], [], [], [], [], []
    gang, shape_of = [], []
    # Units alike in what they ask for fit the same pools: a sweep of 1,000
    # members is checked once.
    fitting: dict[tuple, list[tuple[Unit, int | None] | None]] = {}
    prices: dict[tuple, list[float]] = {}
    preferred: dict[tuple, list[int]] = {}
    keys = [estimate_keys(pool) for pool in pools]
    limits = sorted({pool.max_time for pool in pools if pool.max_time is not None})
    # What units of one kind share (the pools that fit them, what they pay
    # per second there, what they take of a node), for the common
    # single-node, unshaped unit:
    # computed once per kind, not once per unit.
    kinds: dict[tuple, _Kind] = {}
    speeds = [pool.speed for pool in pools]
    for unit in units:
        service = isinstance(unit, Service)
        copies = unit.replicas if service else 1
        requirements = _requirements(unit, limits)
        if not (unit.resources.nodes > 1 or isinstance(unit, StageInstance) and unit.shapes):
            kind = kinds.get(requirements)
            if kind is None:
                kind = kinds[requirements] = _kind(experiment, unit, pools, copies, preferred)
            fits, money, needs, usable, slowest_speed, ordered = kind
            estimate = None if service else unit.estimate  # a service has none
            row = None
            if estimate is not None and not estimate.by_key:
                default = estimate.default
                # Division by a positive speed is monotone, so when the
                # slowest pool it may use finishes it, finite and within its
                # time, every one does: it may use them all (no list of
                # pools that finish it, or of those within its time).
                slowest = default / slowest_speed if usable else INF
                if default >= 0.0 and slowest < INF and slowest <= unit.resources.time:
                    if len(usable) == len(pools):
                        row = list(map(default.__truediv__, speeds))
                    else:
                        row = [INF] * len(pools)
                        for p in usable:
                            row[p] = default / speeds[p]
                    allowed, over = ordered[:], False
            if row is None:
                row = [INF] * len(pools)
                if service:
                    for p in fits:
                        row[p] = 0.0
                elif estimate.by_key:
                    for p in fits:
                        row[p] = estimate_seconds(estimate, pools[p], keys[p])
                else:
                    default = estimate.default  # estimate_seconds without its calls
                    for p in fits:
                        row[p] = default / speeds[p] if speeds[p] > 0 else INF
                feasible = [p for p in fits if row[p] < INF]  # a pool that never finishes it cannot run it
                time = unit.resources.time
                within = feasible if service else [p for p in feasible if row[p] <= time]
                allowed, over = _options(unit, pools, within or feasible, preferred), bool(feasible) and not within
            runtime.append(row)
            options.append(allowed)
            over_limit.append(over)
            rate.append(money)  # never changed: shared by the units of a kind
            gang.append(None)
            shape_of.append(None)
            demand.append(needs)  # shared by the units of a kind, as `money` is
            replicas.append(copies)
            continue
        if requirements not in fitting:
            fitting[requirements] = _as_run_on(experiment, unit, pools)
        # Cached per requirements: the unit itself (its estimate) is this one.
        run_on = [None if there is None else (shapes.resolve(unit, there[1]) if there[1] is not None else unit,
                                              there[1]) for there in fitting[requirements]]
        feasible = [p for p, there in enumerate(run_on) if there is not None]
        shaped = isinstance(unit, StageInstance) and bool(unit.shapes)
        row = [INF] * len(pools)
        # What a unit pays per second depends on its requirements only (a
        # shaped one's, on the shape each pool runs): computed once per kind.
        known = None if shaped else prices.get(requirements)
        money = [0.0] * len(pools) if known is None else known[:]
        for p, there in enumerate(run_on):
            pool = pools[p]
            if there is None:
                if known is None:
                    money[p] = pool.price * node_share(unit, pool) * copies / 3600
                continue
            there = there[0]
            row[p] = 0.0 if service else estimate_seconds(there.estimate, pool, keys[p])
            if known is None:
                money[p] = pool.price * node_share(there, pool) * there.resources.nodes * copies / 3600
        if known is None and not shaped:
            prices[requirements] = money[:]
        feasible = [p for p in feasible if row[p] < INF]  # a pool that never finishes it cannot run it
        within = [p for p in feasible if service or row[p] <= run_on[p][0].resources.time]
        runtime.append(row)
        options.append(_options(unit, pools, within or feasible, preferred))
        over_limit.append(bool(feasible) and not within)
        rate.append(money)
        if shaped or unit.resources.nodes > 1:
            sizes = [(*_per_node(there[0].resources), there[0].resources.nodes) if there else (0, 0, 0, 1)
                     for there in run_on]
            gang.append(sizes)
            shape_of.append([there[1] if there else None for there in run_on] if shaped else None)
            # The least any of its shapes needs in all: a valid lower bound (ranks.py).
            fitting_sizes = [sizes[p] for p in feasible] or [sizes[0]]
            demand.append(tuple(min(size[r] * size[3] for size in fitting_sizes) for r in range(3)))
        else:
            gang.append(None)
            shape_of.append(None)
            demand.append(_per_node(unit.resources))
        replicas.append(copies)

    preds: list[list[tuple[int, int, bool]]] = []
    reads, datasets = [], []
    outputs, slots = _output_items(experiment, index)
    declared_datasets = _dataset_items(experiment, site_at, slots)
    for v, pairs in enumerate(named):
        mine = sources[v]
        if not pairs and not declared_datasets:
            # It reads nothing (NO_ITEMS: the IR's shared empty list, which
            # refuses to grow, so no unit can change another's through it).
            reads.append(NO_ITEMS)
            datasets.append(NO_ITEMS)
            preds.append([(u, 0, False) for u in mine] if mine else [])
            continue
        items = _reads(units[v], pairs, declared_datasets, outputs)
        reads.append(items)
        if len(items) == len(mine) and [item.producer for item in items] == mine:
            # One item from each unit it waits for, in the same (name) order,
            # so no data set either: the common case, without counting.
            datasets.append(NO_ITEMS)
            preds.append([(item.producer, item.size, True) for item in items])
            continue
        # Without declared data sets, no item is one (no pass over the items).
        datasets.append([d for d in items if d.producer < 0] if declared_datasets else NO_ITEMS)
        carried: dict[int, int] = {}
        for item in items:
            q = item.producer  # -1: a data set
            if q >= 0:
                size = carried.get(q)
                carried[q] = item.size if size is None else size + item.size  # the item's own int: no new one
        into = []
        for u in mine:
            size = carried.get(u)
            into.append((u, 0, False) if size is None else (u, size, True))
        preds.append(into)

    service_reach = reachability.site_reach(sites)
    # Without services no input is bound to one: no pass over the inputs.
    used = reachability.uses(units, index) if experiment.services else [NO_ITEMS] * len(units)
    unreachable = reachability.narrow(options, used, service_reach, pool_site)
    return Problem(
        experiment=experiment,
        units=units,
        names=names,
        is_service=[isinstance(u, Service) for u in units],
        sites=sites,
        pools=pools,
        pool_site=pool_site,
        runtime=runtime,
        options=options,
        over_limit=over_limit,
        demand=demand,
        gang=gang,
        shape=shape_of,
        replicas=replicas,
        rate=rate,
        preds=preds,
        succs=succs,
        by_name=by_name,
        reads=reads,
        datasets=datasets,
        routes=_routes(experiment, sites),
        index=index,
        slots=slots + len(experiment.datasets),  # every declared one numbered, duplicates too
        reach=service_reach,
        uses=used,
        unreachable=unreachable,
    )
