"""The list scheduler: take ready units by priority, put each on the pool
where the objective likes it best, at the earliest start its data and the
pool's capacity allow (insertion into gaps included).

With upward ranks and no lookahead this is HEFT (Topcuoglu et al. 2002); with
OCT ranks and the OCT lookahead it is PEFT (Arabnejad and Barbosa 2014); with
some pools fixed it re-times a given assignment, or lets the other units
adapt to a forced choice, which the local search uses.
"""

from __future__ import annotations

import heapq
from math import inf
from typing import NamedTuple

from ..ir import Objective
from .capacity import PoolCapacity, earliest_gang, reserve_gang
from .model import Problem
from .ranks import min_running_cost, remaining_path
from .reachability import can_reach
from .schedule import Schedule, finalise_service_costs


class Policy:
    """How a unit picks among its pools. `after` and `latest_finish` are
    made on first use: a schedule that can neither give up nor break a
    deadline (HEFT under plain makespan) never reads them."""

    __slots__ = ("_after", "_latest", "_problem", "min_cost", "objective")

    def __init__(self, problem: Problem, objective: Objective, min_cost: list[float]) -> None:
        self._problem, self.objective = problem, objective
        self.min_cost = min_cost  # cheapest running cost of each unit, for the budget guard
        self._after: list[float] | None = None
        self._latest: list[float] | None = None

    @property
    def after(self) -> list[float]:
        """Per unit, the fastest chain of run times after it: no plan ends
        sooner than its finish plus this."""
        if self._after is None:
            self._after = remaining_path(self._problem)
        return self._after

    @property
    def latest_finish(self) -> list[float]:
        """Per unit, the latest finish that keeps the deadline, for the cost objective."""
        if self._latest is None:
            deadline = self.objective.deadline if self.objective.deadline is not None else inf
            self._latest = [deadline - after for after in self.after]
        return self._latest


class NoCapacity(Exception):
    """A unit can never start: services hold its pools for ever, or what it
    waits for never finishes, or (from an IR the front end did not check) its
    pools have no node that can take it."""

    def __init__(self, unit: int, holders: list[str], stalled: list[str]) -> None:
        super().__init__(unit)
        self.unit = unit
        self.holders = holders  # the services already holding the pools it may use
        self.stalled = stalled  # the units it waits for that never finish


class Option(NamedTuple):
    """What a unit would have got on one pool when it was placed (a tuple:
    thousands are made per run)."""

    pool: int
    start: float
    finish: float
    cost: float  # running (an hour, for a service), new egress, and the running services kept paid for longer


def policy_for(problem: Problem, objective: Objective) -> Policy:
    # Only the budget guard reads the cheapest costs: without a budget, zeros.
    cheapest = min_running_cost(problem) if objective.budget is not None else [0.0] * problem.n
    return Policy(problem, objective, cheapest)


def new_capacities(problem: Problem) -> list[PoolCapacity]:
    caps = [
        PoolCapacity(pool.nodes, pool.cpus, pool.memory, pool.gpus.count if pool.gpus else 0)
        for pool in problem.pools
    ]
    # A queue wait is the whole pool busy until then.
    for cap, wait in zip(caps, problem.pool_wait):
        if wait > 0:
            for node in range(len(cap.nodes)):
                cap.reserve(node, 0.0, wait, *cap.size)
    return caps


def _place_service(cap: PoolCapacity, ready: float, demand: tuple[int, int, int], copies: int, commit: bool):
    """Every replica on some node, held for ever (until `_stop_service`);
    the service starts when the last replica can. Returns the start, the
    nodes, and where each replica's hold begins."""
    trial = cap if commit else cap.copy()
    start, nodes, held = ready, [], []
    for _ in range(copies):
        at, node = trial.earliest(ready, *demand, inf)
        if node < 0:
            return inf, [], []
        trial.reserve(node, at, inf, *demand)
        start, nodes = max(start, at), nodes + [node]
        held.append(at)
    return start, nodes, held


def _stop_service(cap: PoolCapacity, nodes: list[int], held: list[float], demand: tuple[int, int, int],
                  end: float) -> None:
    """A service that lives for the experiment gives its nodes back when
    its last consumer finishes (the workflow stops it then)."""
    for node, at in zip(nodes, held):
        cap.release(node, max(at, end), inf, *demand)


class State:
    """Everything a list schedule has decided after placing some units in
    its priority order: capacities, each placed unit's pool, node and times,
    where data already is, the running totals, and what is still waiting.
    Which unit comes next depends on the priorities and the graph only,
    never on the choices, so a state taken before the k-th unit of a
    schedule's order, with the units before it fixed to their pools, is
    where any re-run with those units fixed stands then: the local search
    resumes from a copy of it instead of re-placing them."""

    __slots__ = ("by_rank", "caps", "consumers_left", "done", "egress_total", "finish_of", "heap", "held_from",
                 "horizon", "last_use", "node_of", "order", "pool_of", "present", "rank_of", "remaining_min",
                 "run_cost", "service_rate", "site_of", "spent", "start_of", "waiting")

    def copy(self) -> State:
        other = State.__new__(State)
        for name in State.__slots__:
            setattr(other, name, getattr(self, name))
        # What placing more units changes in place; the rest is replaced
        # whole (a unit's node list, a service's holds) or never changes
        # (the priority order).
        other.caps = [cap.copy() for cap in self.caps]
        for name in ("consumers_left", "done", "finish_of", "heap", "last_use", "node_of", "order", "pool_of",
                     "present", "run_cost", "site_of", "start_of", "waiting"):
            setattr(other, name, getattr(self, name)[:])
        other.held_from = dict(self.held_from)
        return other


def start(problem: Problem, priority: list[float], policy: Policy) -> State:
    """The state before any unit is placed."""
    n = problem.n
    state = State()
    state.caps = new_capacities(problem)
    state.pool_of, state.node_of = [-1] * n, [[] for _ in range(n)]
    state.start_of, state.finish_of, state.done = [0.0] * n, [0.0] * n, [0.0] * n
    state.run_cost = [0.0] * n
    state.site_of = [-1] * n
    # Per data item (DataItem.slot), the sites it is already on (or on its
    # way to) as a bit mask, site s as bit s: 0 until a unit reads it.
    state.present = [0] * problem.slots
    state.egress_total = state.spent = 0.0
    # Services are paid until the makespan: a unit that ends after every
    # unit placed so far keeps the running services paid for that long too.
    state.service_rate = state.horizon = 0.0
    state.remaining_min = sum(policy.min_cost)
    # Services that stop with their last consumer: consumers not yet placed,
    # the latest consumer finish so far, and where each replica's hold began.
    # A service used by another service stops after that one does: it is
    # simply held for ever here (never counted down to zero).
    consumers_left = state.consumers_left = [0] * n
    for c, services in enumerate(problem.uses):
        for v in services:
            consumers_left[v] += 1 + (n if problem.is_service[c] else 0)
    state.last_use = [0.0] * n
    state.held_from = {}
    state.order = []
    state.waiting = list(map(len, problem.preds))
    # The ready units by priority, then name: a heap of each unit's place
    # in that order, plain ints (cheap to compare, unlike tied names).
    # By name, then (stable) by priority: the order of the key
    # (-priority, name), with no tuple and no Python call per unit.
    by_rank = state.by_rank = problem.by_name[:]
    by_rank.sort(key=[-p for p in priority].__getitem__)
    rank_of = state.rank_of = [0] * n
    for r, u in enumerate(state.by_rank):
        rank_of[u] = r
    state.heap = [rank_of[u] for u in range(n) if not state.waiting[u]]
    heapq.heapify(state.heap)
    return state


def run(
    problem: Problem,
    priority: list[float],
    policy: Policy,
    name: str,
    lookahead: list[list[float]] | None = None,
    fixed: dict[int, int] | None = None,
    explain: list[list[Option]] | None = None,
    explain_kind: str | None = None,
    give_up: float = inf,
    keep: tuple[int, ...] = (),
) -> Schedule | None:
    """Schedule every unit; None once the makespan is sure to exceed
    `give_up` (see `advance`). `fixed` forces the pool of the units it maps
    (all of them: a re-timing). `explain`, a list with a slot per unit,
    receives what each unit got and what its earliest-finishing alternatives
    (when the plan is explained under the cost objective, `explain_kind`:
    all of them) would have given at that moment, for the reasons shown to
    the user; the schedule keeps them (`Schedule.explained`), so the plan
    need not re-run it. Recording never changes a choice. `keep`, ascending
    counts of placed units: a copy of the state at each is kept
    (`Schedule.saved`) for the local search to resume from."""
    state = start(problem, priority, policy)
    saved = []
    for until in keep:
        if not advance(problem, state, policy, lookahead, fixed, explain, explain_kind, until=until, give_up=give_up):
            return None
        saved.append(state.copy())
    if not advance(problem, state, policy, lookahead, fixed, explain, explain_kind, give_up=give_up):
        return None
    schedule = schedule_of(problem, state, name, explain)
    schedule.saved = saved
    return schedule


def advance(
    problem: Problem,
    state: State,
    policy: Policy,
    lookahead: list[list[float]] | None = None,
    fixed: dict[int, int] | None = None,
    explain: list[list[Option]] | None = None,
    explain_kind: str | None = None,
    until: int = -1,
    give_up: float = inf,
    known: Schedule | None = None,
) -> bool:
    """Place units in priority order from `state` on (as `run` does), until
    `until` units are placed (-1: all of them). False, and the state left
    part-way, once the schedule is sure to end after `give_up`: a unit's
    finish plus the fastest chain after it is a lower bound of the
    makespan (a successor starts no earlier than its predecessor ends).
    `known`, a schedule whose units up to `until` were placed from the same
    state with the same fixed pools (the plan the local search improves):
    those units take its start and node without a search."""
    runtime, rate, options = problem.runtime, problem.rate, problem.options
    pool_site, preds, datasets = problem.pool_site, problem.preds, problem.datasets
    routes = problem.routes
    lat, inv, egr = routes.latency, routes.inv_bandwidth, routes.egress
    names, is_service, demand, replicas = problem.names, problem.is_service, problem.demand, problem.replicas
    gang = problem.gang
    objective = policy.objective
    kind = objective.kind
    budget = objective.budget
    deadline = objective.deadline
    wants_cost = kind != "makespan" or budget is not None  # money enters the choice
    # Recorded offers need prices: every pool's when the plan is explained
    # under the cost objective, else only the chosen pool's and its earliest
    # rival's, priced once the unit is placed (`lazy`).
    prices = wants_cost or explain is not None and (explain_kind or kind) == "cost"
    lazy = explain is not None and not prices
    prune = not wants_cost and lookahead is None
    explain_kind = explain_kind or kind
    # Recording under pruning: a pool may be cut off only when it cannot beat
    # the second-earliest finish so far, so the earliest rival of the chosen
    # pool stays exact; explained under the cost objective, no pool is cut.
    exhaustive = explain is not None and explain_kind == "cost"
    cut = prune and not exhaustive
    # Choosing for plain makespan with nothing priced: a pool's offer is
    # its finish (and, for PEFT, the lookahead's estimate after it).
    by_finish = kind == "makespan" and budget is None and not prices
    fixed = fixed or {}
    time_weight, cost_weight = objective.time_weight / 3600, objective.cost_weight

    dated = kind == "cost" and deadline is not None  # a unit finishing too late is chosen last
    # A finish plus the fastest chain after it can only pass a finite
    # `give_up`: without one, the chains are never needed.
    after = policy.after if give_up < inf else None
    site_count = len(problem.sites)
    caps = state.caps
    pool_of, node_of, site_of = state.pool_of, state.node_of, state.site_of
    start_of, finish_of, done, run_cost = state.start_of, state.finish_of, state.done, state.run_cost
    present = state.present
    egress_total, spent = state.egress_total, state.spent
    service_rate, horizon = state.service_rate, state.horizon
    remaining_min = state.remaining_min
    consumers_left, last_use, held_from = state.consumers_left, state.last_use, state.held_from

    def price(u: int, p: int, duration: float, finish: float) -> float:
        """Running (an hour, for a service), the running services kept paid
        for longer, and new egress, of unit u on pool p."""
        s = pool_site[p]
        cost = rate[u][p] * (3600.0 if is_service[u] else duration)
        if finish > horizon:
            cost += service_rate * (finish - horizon)
        for item in problem.reads[u]:
            src = item.site if item.producer < 0 else site_of[item.producer]
            if src != s and not present[item.slot] >> s & 1:
                cost += item.size * (routes.of(item).egress if item.store else egr)[src][s]
        return cost

    order, waiting, heap = state.order, state.waiting, state.heap
    by_rank, rank_of = state.by_rank, state.rank_of
    pop, push = heapq.heappop, heapq.heappush
    uses, reads_of, succs, min_cost = problem.uses, problem.reads, problem.succs, policy.min_cost
    make = tuple.__new__  # an Option without the NamedTuple constructor's Python frame
    while heap:
        if len(order) == until:
            break
        u = by_rank[pop(heap)]
        order.append(u)
        reads = reads_of[u]
        # The unit's rows, looked up once rather than once per pool.
        service, needs, times, sizes = is_service[u], demand[u], runtime[u], gang[u]
        ahead_of = lookahead[u] if lookahead else None
        before, from_sets = preds[u], datasets[u]
        ready_at = [-1.0] * site_count  # per site, when its inputs can be there; -1: not computed yet
        best_key, best, best_score = None, None, inf
        evaluated = []
        rival = second = inf
        chosen = fixed.get(u, -1)
        served_from = [site_of[v] for v in uses[u]] if uses[u] else None
        if chosen >= 0 and served_from and not can_reach(problem.reach, pool_site, served_from, chosen):
            chosen = -1  # moved where it cannot reach a service it uses: let it choose
        if known is not None and chosen >= 0 and explain is None and not service and known.pool[u] == chosen:
            # Placed where `known` has it: searching from the same state
            # would find the same start and node again.
            start, finish = known.start[u], known.finish[u]
            best = (chosen, known.node[u][0] if sizes is None else known.node[u], start, finish,
                    price(u, chosen, times[chosen], finish) if prices else 0.0)
            offered = ()
        else:
            offered = options[u] if chosen < 0 or explain is not None else (chosen,)
        for preference, p in enumerate(offered):
            s = pool_site[p]
            if served_from and not can_reach(problem.reach, pool_site, served_from, p):
                continue
            ready = ready_at[s]
            if ready < 0.0:
                ready = 0.0
                for q, size, carries in before:  # the hot loop: no calls
                    t = done[q]
                    if carries:
                        sq = site_of[q]
                        if sq != s:
                            t += lat[sq][s] + size * inv[sq][s]
                    if t > ready:
                        ready = t
                for item in from_sets:
                    if item.site != s:
                        t = routes.of(item).seconds(item.site, s, item.size)
                        ready = max(ready, t)
                ready_at[s] = ready
            duration = times[p]
            if service:
                start, nodes, _ = _place_service(caps[p], ready, needs, replicas[u], False)
                finish = start
            else:
                # A pool that cannot beat the best finish so far need not
                # search its nodes to the end: when choosing for plain
                # makespan, and when explaining (only the earliest rival of
                # the fixed pool is reported).
                limit = inf
                if chosen < 0:
                    if cut and best is not None:
                        limit = (best[3] if explain is None else second) - duration
                elif p != chosen and explain_kind != "cost":
                    limit = rival - duration
                if sizes is None:
                    if ready >= limit:
                        continue  # earliest_of's own first test, without its call
                    start, nodes = caps[p].earliest_of(ready, needs, duration, limit)
                    if nodes < 0:
                        continue
                else:
                    *per_node, count = sizes[p]
                    start, nodes = earliest_gang(caps[p], ready, *per_node, count, duration, limit)
                    if not nodes:
                        continue
                finish = start + duration
                if chosen >= 0 and p != chosen:
                    rival = min(rival, finish)
                elif best is not None and finish < second:
                    second = best[3] if best[3] > finish else finish  # max(finish, best[3]), without the call
            if by_finish:
                # The key below would be (0, finish + ahead, finish, 0.0,
                # preference), compared here without making it: a tie keeps
                # the earlier pool.
                if explain is not None:
                    evaluated.append(make(Option, (p, start, finish, 0.0)))
                score = finish + ahead_of[p] if ahead_of else finish
                if p == chosen or chosen < 0 and (best is None or score < best_score
                                                  or score == best_score and finish < best[3]):
                    best, best_score = (p, nodes, start, finish, 0.0), score
                continue
            cost = price(u, p, duration, finish) if prices else 0.0
            ahead = ahead_of[p] if ahead_of else 0.0
            if budget is not None and spent + cost + remaining_min - policy.min_cost[u] > budget:
                late = 1  # over the budget: only when nothing else fits
            elif dated and finish > policy.latest_finish[u]:
                late = 1
            else:
                late = 0
            # Smaller is better; `preference` (the position in the unit's
            # options) breaks ties, which is also why pruning may skip a
            # later pool that only ties.
            if kind == "cost":
                key = (late, cost, finish, preference)
            elif kind == "weighted":
                key = (late, time_weight * (finish + ahead) + cost_weight * cost, finish, preference)
            else:
                key = (late, finish + ahead, finish, cost if wants_cost else 0.0, preference)
            if explain is not None:
                evaluated.append(make(Option, (p, start, finish, cost)))
            if p == chosen or chosen < 0 and (best_key is None or key < best_key):
                best_key, best = key, (p, nodes, start, finish, cost)

        if best is None or best[2] == inf:
            holders = sorted({names[v] for v in order if is_service[v] and pool_of[v] in options[u]})
            stalled = sorted(names[q] for q, _, _ in preds[u] if done[q] == inf)
            raise NoCapacity(u, holders, stalled)
        if explain is not None:
            # Choosing for plain makespan, the chosen pool finishes first and
            # `second` is its earliest rival's finish: a reason names no
            # price unless the two are as early as each other.
            if lazy and (not prune or chosen >= 0 or service or second - best[3] <= SAME_TIME):
                _price_offers(evaluated, best[0], 1 if service else 2, price, u, times)
            explain[u] = evaluated
        p, nodes, start, finish, cost = best
        s = pool_site[p]
        if is_service[u]:
            held_from[u] = _place_service(caps[p], ready_at[s], demand[u], replicas[u], True)[2]
        elif gang[u] is None:
            caps[p].reserve(nodes, start, finish, *needs)
            nodes = [nodes]
        else:
            reserve_gang(caps[p], nodes, start, finish, *gang[u][p][:3])
        pool_of[u], node_of[u], site_of[u] = p, nodes, s
        start_of[u], finish_of[u], done[u] = start, finish, finish
        if after is not None and finish + after[u] > give_up:
            state.egress_total, state.spent = egress_total, spent
            state.service_rate, state.horizon, state.remaining_min = service_rate, horizon, remaining_min
            return False
        run_cost[u] = rate[u][p] * (finish - start)
        here = 1 << s
        for item in reads:
            slot = item.slot
            # Where it is: its source's site from its first read on (a
            # data set's site, its producer's, never moved since).
            there = present[slot] or 1 << (item.site if item.producer < 0 else site_of[item.producer])
            if not there & here:
                src = item.site if item.producer < 0 else site_of[item.producer]
                egress_total += item.size * (routes.of(item).egress if item.store else egr)[src][s]
                there |= here
            present[slot] = there
        spent += cost
        if finish > horizon:
            horizon = finish
        if is_service[u]:
            service_rate += rate[u][p]
        remaining_min -= min_cost[u]
        for v in uses[u]:
            consumers_left[v] -= 1
            last_use[v] = max(last_use[v], finish)
            if not consumers_left[v] and problem.units[v].lifetime == "experiment":
                _stop_service(caps[pool_of[v]], node_of[v], held_from[v], demand[v], last_use[v])
        for v in succs[u]:
            waiting[v] -= 1
            if not waiting[v]:
                push(heap, rank_of[v])

    state.egress_total, state.spent = egress_total, spent
    state.service_rate, state.horizon, state.remaining_min = service_rate, horizon, remaining_min
    return True


def schedule_of(problem: Problem, state: State, name: str, explain: list[list[Option]] | None = None) -> Schedule:
    """The schedule of a state with every unit placed."""
    schedule = Schedule(
        pool=state.pool_of,
        node=state.node_of,
        start=state.start_of,
        finish=state.finish_of,
        run_cost=state.run_cost,
        egress_cost=state.egress_total,
        makespan=max(state.done, default=0.0),
        algorithm=name,
        order=state.order,
        explained=explain,
    )
    finalise_service_costs(problem, schedule)
    return schedule


SAME_TIME = 1e-6  # seconds: finishing this close is "as early as" in a reason (plan._choice)


def _price_offers(offers: list[Option], chosen: int, done: int, price, unit: int, runtime: list[float]) -> None:
    """Price, in place, the two offers a reason compares outside the cost objective (plan._choice): the chosen
    pool's and its earliest rival's, by `done` (the index of the start, for
    a service, or of the finish); the first of equals, as `min` takes it.
    A reason names their prices only when the two are as early as each
    other (within plan._choice's microsecond): the others stay unpriced.
    `price(unit, pool, duration, finish)` is advance's, `runtime` the unit's row."""
    mine = rival = -1
    for i, offer in enumerate(offers):
        if offer[0] == chosen:
            if mine < 0:
                mine = i
        elif rival < 0 or offer[done] < offers[rival][done]:
            rival = i
    if rival < 0 or mine < 0:
        return  # no rival, or no offer of its own: the reason names no price
    gain = offers[rival][done] - offers[mine][done]
    if gain > SAME_TIME or gain < -SAME_TIME:
        return  # the reason is the time gained or lost
    for i in (mine, rival):
        q, start, finish, _ = offers[i]
        offers[i] = Option(q, start, finish, price(unit, q, runtime[q], finish))

