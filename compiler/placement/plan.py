"""From a schedule to the IR Plan: assignments with their reasons, the
transfers the placement implies, totals and notes."""

from __future__ import annotations

import re
from hashlib import sha256
from json.encoder import encode_basestring as _quote
from operator import itemgetter

from .. import shapes
from ..fit import human_duration, human_size
from ..ir import Assignment, DataRef, DatasetRef, Objective, OutputRef, Plan, Route, Transfer
from ..sites import reach
from .errors import PlacementError, no_route
from .listsched import SAME_TIME, Option, policy_for, run
from .model import NO_LINK_BANDWIDTH, NO_LINK_LATENCY, DataItem, Problem
from .schedule import Schedule
from .trusted import made


def transfer_id(site: str, what: DataRef) -> str:
    """`to_<site>__<what>` as an identifier (a Snakemake rule name), ending
    in a short hash of the site and the typed reference: readable parts can
    coincide (the output `dataset.coco` and the data set `coco`), the hash
    keeps the ids apart."""
    if isinstance(what, DatasetRef):
        return _transfer_id(_site_parts(site), what.dataset, None)
    return _transfer_id(_site_parts(site), what.instance, what.output)


# A run of characters an identifier cannot hold; "__" between the site and
# the reference is word characters, so no run crosses it and each side can
# be cleaned on its own (the site once per plan, not once per transfer).
_NOT_WORD = re.compile(r"[^A-Za-z0-9_]+")
# The same for text whose runs are single characters (most ids): each
# character an identifier cannot hold becomes "_", by a byte table.
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_ONE_BY_ONE = bytes(b if b in _WORD else ord("_") for b in range(256))
_TWO_IN_A_ROW = re.compile(r"[^A-Za-z0-9_]{2}")


def _clean(text: str) -> str:
    """`_NOT_WORD.sub("_", text)`: every run of characters an identifier
    cannot hold as one "_". ASCII text with no two such characters in a row
    (no "__" after the byte table, or none found) takes the table, about a
    third of the regular expression's time."""
    if text.isascii():
        done = text.encode().translate(_ONE_BY_ONE).decode()
        if "__" not in done or not _TWO_IN_A_ROW.search(text):
            return done
    return _NOT_WORD.sub("_", text)


def _site_parts(site: str) -> tuple[str, str]:
    """What a transfer id takes from its target site, made once per site:
    the start of its readable part and of the JSON its hash is over."""
    return f"to_{_clean(site)}__", f"[{_quote(site)}, {{"


def _transfer_id(site_parts: tuple[str, str], first: str, second: str | None) -> str:
    """transfer_id from the site's parts (`_site_parts`) and the reference's
    (a data set: `second` None), without building the reference. The hash
    is over the JSON the IR model dumps to, `[site, {fields, sorted}]`,
    written out directly: the same bytes as json.dumps(sort_keys=True,
    ensure_ascii=False), so ids never change. The readable part starts
    with "to_": only its end can hold a "_" to strip."""
    readable_start, exact_start = site_parts
    quote = _quote
    if second is None:
        readable = f"{readable_start}{_clean(f'dataset:{first}')}".rstrip("_")
        exact = f'{exact_start}"dataset": {quote(first)}, "kind": "dataset"}}]'
    else:
        # Two ASCII identifiers (most names) are clean already: the colon
        # between them is the one character to replace; and JSON quotes
        # them as they are (no character of theirs is escaped).
        if first.isascii() and second.isascii() and first.isidentifier() and second.isidentifier():
            readable = f"{readable_start}{first}_{second}".rstrip("_")
            exact = f'{exact_start}"instance": "{first}", "kind": "output", "output": "{second}"}}]'
        else:
            readable = f"{readable_start}{_clean(f'{first}:{second}')}".rstrip("_")
            exact = f'{exact_start}"instance": {quote(first)}, "kind": "output", "output": {quote(second)}}}]'
    # The first three bytes of the digest in hex: its hexdigest's first six
    # characters, without writing out the other 58.
    return f"{readable[:80]}_{sha256(exact.encode()).digest()[:3].hex()}"


_ID = itemgetter("id")


class _Placed:
    """What the reasons and the transfers read of the plan, looked up once:
    each pool's id and each unit's site; and what `transfers` counts on its
    way: the bytes each unit reads from other sites (`inbound`), the bytes
    all transfers move (`moved`), and the routes they take, once each, with
    their source and target sites (`routes`: the notes read these, not
    every transfer)."""

    __slots__ = ("inbound", "moved", "pool_ids", "routes", "site_of")

    def __init__(self, problem: Problem, schedule: Schedule) -> None:
        self.pool_ids = [pool.id for pool in problem.pools]
        self.site_of = [problem.pool_site[p] for p in schedule.pool]
        self.inbound: list[int] = []
        self.moved = 0
        self.routes: list[tuple[int, int, Route]] = []


def transfers(problem: Problem, schedule: Schedule, placed: _Placed) -> list[Transfer]:
    """One transfer per (data, target site), however many consumers read it
    there. Counts, into `placed.inbound`, the bytes each unit reads from
    other sites (its reason says when it was placed despite them), and
    fills `placed.moved` and `placed.routes`."""
    routes = problem.routes
    finish, names, site_of = schedule.finish, problem.names, placed.site_of
    site_names = [site.name for site in problem.sites]
    id_parts = [_site_parts(name) for name in site_names]
    k = len(site_names)
    found: dict[int, dict] = {}  # by the item's slot and the target site, as one int
    # One Route per (store, source, target) and one reference per data: they
    # depend on nothing else, and the IR models are frozen, so the transfers
    # may share them. Routes by (store, source, target) as one int.
    made_routes: list[Route | None] = [None] * (2 * k * k)
    refs: dict[int, DataRef] = {}  # by the item's slot
    inbound = placed.inbound = [0] * problem.n
    moved = 0
    for v, reads in enumerate(problem.reads):
        target = site_of[v]
        elsewhere = 0  # bytes v reads from other sites
        for item in reads:
            producer = item.producer
            source = item.site if producer < 0 else site_of[producer]
            if source == target:
                continue
            size = item.size
            elsewhere += size
            where = item.slot * k + target
            entry = found.get(where)
            if entry is not None:
                entry["consumers"].append(names[v])
                continue
            begin = 0.0 if producer < 0 else finish[producer]
            slot, name, path = item.slot, item.name, item.path
            via = routes.store if item.store and routes.store is not None else routes
            if producer < 0:
                ref = refs.get(slot) or refs.setdefault(slot, made(DatasetRef, {"kind": "dataset", "dataset": name}))
                ident = _transfer_id(id_parts[target], name, None)
                target_path = f"datasets/{name}"
            else:
                output = item.output
                ref = refs.get(slot) or refs.setdefault(
                    slot, made(OutputRef, {"kind": "output", "instance": name, "output": output}))
                ident = _transfer_id(id_parts[target], name, output)
                target_path = path
            route_at = (k * source + target) * 2 + item.store
            moved += size
            # In Transfer's field order (trusted.made keeps the dict as given).
            found[where] = {
                "id": ident,
                "source_site": site_names[source],
                "target_site": site_names[target],
                "what": ref,
                "path": path,
                "target_path": target_path,
                "route": made_routes[route_at] or _route(problem, item, source, target, made_routes, route_at),
                "size": size,
                "kind": item.kind,
                "consumers": [names[v]],
                "start": begin,
                # Routes.seconds and .money, inline (source != target here)
                "finish": begin + (via.latency[source][target] + size * via.inv_bandwidth[source][target]),
                "cost": size * via.egress[source][target],
            }
        if elsewhere:
            inbound[v] = elsewhere
    placed.moved = moved
    placed.routes = [(at // 2 // k, at // 2 % k, route) for at, route in enumerate(made_routes) if route is not None]
    # Built from checked values: no validation (a hot spot at tens of
    # thousands of objects), as for the assignments below.
    return [made(Transfer, entry) for entry in sorted(found.values(), key=_ID)]


def _route(problem: Problem, item: DataItem, source: int, target: int, made: list[Route | None], at: int) -> Route:
    kind = problem.routes.of(item).kind[source][target]
    if kind == reach.NO_ROUTE:
        raise PlacementError([no_route(problem.experiment, item.ref, problem.sites[source], problem.sites[target])])
    found = made[at] = reach.make_route(kind, problem.sites[source], problem.sites[target])
    return found


def _end_name(problem: Problem, end: int) -> str:
    return problem.sites[end].name if end < len(problem.sites) else "the workflow machine"


def _explain(problem: Problem, objective: Objective, schedule: Schedule) -> list[list[Option]]:
    """What each unit got and its earliest rivals when it was placed: as the
    list schedule recorded them, or, for a schedule made without recording
    (the local search's), by re-timing the final assignment (the same order
    and pools give the same times)."""
    if schedule.explained is not None:
        return schedule.explained
    policy = policy_for(problem, objective)
    slots: list[list[Option]] = [[] for _ in range(problem.n)]
    priority = [0.0] * problem.n
    for position, u in enumerate(schedule.order):
        priority[u] = -float(position)
    run(problem, priority, policy, schedule.algorithm, fixed=dict(enumerate(schedule.pool)), explain=slots)
    return slots


def _inbound(problem: Problem, v: int, site: int, site_of: list[int]) -> int:
    """The bytes unit v would read from elsewhere on `site`. `site_of`: each
    unit's site."""
    total = 0
    for item in problem.reads[v]:
        producer = item.producer
        if (item.site if producer < 0 else site_of[producer]) != site:
            total += item.size
    return total


def _has_gpus(problem: Problem, p: int) -> bool:
    gpus = problem.pools[p].gpus
    return gpus is not None and gpus.count > 0


def _restriction(problem: Problem, v: int) -> str:
    unit = problem.units[v]
    if unit.on:
        return f"pinned to {', '.join(unit.on)}"
    if len(problem.options[v]) == 1:
        pool = problem.pools[problem.options[v][0]]
        gpus = unit.resources.gpus
        if gpus and gpus.type:
            return f"only {pool.id} offers {gpus.type}"
        if gpus and gpus.count:
            return f"only {pool.id} has GPUs"
        return f"only {pool.id} can run it"
    return ""


def stops_at(problem: Problem, schedule: Schedule, v: int) -> float | None:
    """When a service that lives for the experiment is stopped and gives its
    nodes back: its last consumer's end (listsched releases them then).
    None for one held for ever: persistent, or used by another service."""
    if not problem.is_service[v] or problem.units[v].lifetime != "experiment":
        return None
    consumers = [c for c, used in enumerate(problem.uses) if v in used]
    if not consumers or any(problem.is_service[c] for c in consumers):
        return None
    return max(schedule.finish[c] for c in consumers)


def reason(problem: Problem, objective: Objective, schedule: Schedule, v: int, options: list[Option],
           placed: _Placed) -> str:
    text = _choice(problem, objective, schedule, v, options, placed)
    if problem.is_service[v]:
        until = stops_at(problem, schedule, v)
        if until is not None:
            text += f"; holds its nodes until {human_duration(until)} (its last consumer's end)"
    if not problem.uses[v]:
        return text
    site = placed.site_of[v]
    served = [f"`{problem.names[s]}` by {problem.reach[problem.pool_site[schedule.pool[s]]][site]}"
              for s in problem.uses[v]]
    return f"{text}; reaches {', '.join(served)}"


_START, _FINISH = itemgetter(1), itemgetter(2)  # an Option's start and finish


def _choice(problem: Problem, objective: Objective, schedule: Schedule, v: int, options: list[Option],
            placed: _Placed) -> str:
    chosen_pool = schedule.pool[v]
    ids = placed.pool_ids
    pool_id = ids[chosen_pool]
    restriction = _restriction(problem, v)
    done = _START if problem.is_service[v] else _FINISH
    at = 1 if problem.is_service[v] else 2  # the index of `done` in an Option
    # Its own offer (the first on its pool) and its earliest rival's (the
    # first of equals, as min() keeps it), in one pass over the offers.
    mine = earliest = None
    for option in options:
        if option[0] != chosen_pool:
            if earliest is None or option[at] < earliest[at]:
                earliest = option
        elif mine is None:
            mine = option
    if earliest is None:
        return restriction or f"{pool_id}: the only pool it may use"
    if mine is None:
        return restriction or pool_id
    if objective.kind == "cost":
        others = [option for option in options if option.pool != chosen_pool]
        rival = min(others, key=lambda o: (o.cost, done(o)))  # the first such in preference order
        saving = rival.cost - mine.cost
        text = f"{pool_id}: {saving:.2f} cheaper than {ids[rival.pool]}" if saving > 1e-9 else ""
    else:
        text = ""
    if not text:
        rival = earliest
        rival_id = ids[rival.pool]
        gain = done(rival) - done(mine)
        verb = "starts" if problem.is_service[v] else "finishes"
        if gain > SAME_TIME:
            text = f"{pool_id}: {human_duration(gain)} earlier than {rival_id}"
            # What it moves where it runs (counted by `transfers`) against
            # what it would move on the rival's site: only when it moves any.
            moved = placed.inbound[v]
            if moved and moved > _inbound(problem, v, problem.pool_site[rival.pool], placed.site_of):
                text += f" despite the {human_size(moved)} transfer"
        elif gain < -SAME_TIME:
            text = f"{pool_id}: {verb} {human_duration(-gain)} later than on {rival_id}, which shortens the whole plan"
        elif mine.cost < rival.cost - 1e-9:
            text = f"{pool_id}: as early as {rival_id}, and cheaper"
        elif _has_gpus(problem, rival.pool) and not _has_gpus(problem, chosen_pool):
            text = f"{pool_id}: as early as {rival_id}, and leaves its GPUs to GPU work"
        else:
            text = f"{pool_id}: as early as {rival_id} (ties go to the first declared pool)"
    return f"{restriction}; {text}" if restriction else text


def _notes(problem: Problem, plan_transfers: list[Transfer], placed: _Placed) -> list[str]:
    notes = []
    guessed: set[str] = set()
    for service, unit in zip(problem.is_service, problem.units):
        if service or unit.stage in guessed:
            continue
        if unit.shapes:
            stated = any(there.estimate.stated for _, there in shapes.alternatives(unit))
        else:
            stated = unit.estimate.stated  # an unshaped instance is its only alternative
        if not stated:
            guessed.add(unit.stage)
    if guessed:
        notes.append(
            f"no estimate given for {', '.join(sorted(guessed))}: the documented default run time "
            "(scaled by pool speed) was used, so their times are guesses"
        )
    for v, over in enumerate(problem.over_limit):
        if over:
            unit = problem.units[v]
            notes.append(
                f"warning: `{problem.names[v]}` is expected to run longer than its time limit "
                f"({human_duration(unit.resources.time)}) on every pool it may use: raise `time` or it will be killed"
            )
    routes = problem.routes
    slow = set()
    # Per route the transfers take (they share one per store, source and
    # target: a few, however many transfers).
    for source, target, route in placed.routes:
        for a, b in routes.hops(source, target, route.kind):
            if a != b and not routes.linked[a][b]:
                slow.add((_end_name(problem, a), _end_name(problem, b)))
    if any(route.kind == "relay" for _, _, route in placed.routes):  # else no pass over the transfers
        for t in plan_transfers:
            if t.route.kind == "relay":
                notes.append(
                    f"{t.what.label} goes from {t.source_site} to {t.target_site} through "
                    f"{_end_name(problem, routes.workflow)}: neither end reaches the other; "
                    "streamed over both links, at the pace of the slower"
                )
    for source, target in sorted(slow):
        notes.append(
            f"no link from {source} to {target}: assumed {NO_LINK_BANDWIDTH * 8 / 1e6:g} Mbit/s "
            f"and {NO_LINK_LATENCY * 1000:g} ms; declare a link for a better plan"
        )
    if any(problem.is_service):
        persistent = any(s and u.lifetime != "experiment" for s, u in zip(problem.is_service, problem.units))
        notes.append("services count as done once started" + (
            "; a persistent service's cost is counted up to the makespan" if persistent else ""))
    if any(s and u.lifetime == "experiment" for s, u in zip(problem.is_service, problem.units)):
        notes.append("a service that lives for the experiment is paid for until its last consumer finishes, "
                     "when the workflow stops it and its nodes are free for later units")
    return notes


def _shape_reason(problem: Problem, v: int, p: int) -> str:
    """Which of a shaped stage's shapes runs, and why that one: `shape 2 of 2
    (2 nodes x 1 x t4, 30h): ` (to_plan asks only for shaped stages)."""
    index = problem.shape[v][p]
    unit = problem.units[v]
    there = shapes.resolve(unit, index)
    why = "" if index == 0 else ", the first that fits this pool"
    return (f"shape {index + 1} of {len(unit.shapes)} ({shapes.describe(there.resources)}, "
            f"{human_duration(problem.runtime[v][p])}{why}); ")


def to_plan(problem: Problem, objective: Objective, schedule: Schedule, bound: float, extra_notes: list[str]) -> Plan:
    explained = _explain(problem, objective, schedule)
    assignments = []
    pools, names, is_service, shape = problem.pools, problem.names, problem.is_service, problem.shape
    pool_of, start, finish, run_cost = schedule.pool, schedule.start, schedule.finish, schedule.run_cost
    placed = _Placed(problem, schedule)
    moved = transfers(problem, schedule, placed)  # first: the reasons read what each unit moves
    for v in range(problem.n):
        p = pool_of[v]
        pool = pools[p]
        why = reason(problem, objective, schedule, v, explained[v], placed)
        if shape[v] is not None:
            why = _shape_reason(problem, v, p) + why
        assignments.append(made(Assignment, {  # in Assignment's field order
            "unit": names[v],
            "kind": "service" if is_service[v] else "instance",
            "site": pool.site,
            "pool": pool.name,
            "start": start[v],
            "finish": finish[v],
            "cost": run_cost[v],
            "reason": why,
            "shape": shape[v][p] if shape[v] is not None else None,
        }))
    return Plan(
        objective=objective,
        assignments=assignments,
        transfers=moved,
        makespan=schedule.makespan,
        cost=schedule.cost,
        egress_bytes=placed.moved,
        lower_bound=bound,
        algorithm=schedule.algorithm,
        notes=_notes(problem, moved, placed) + extra_notes,
    )
