"""Properties of every plan over random DAGs and random platforms."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from compiler.fit import shortfalls
from compiler.ir import Objective
from compiler.placement import PlacementError, exact, place
from compiler.placement.listsched import policy_for, run
from compiler.placement.model import build
from compiler.placement.place import heuristic
from compiler.placement.ranks import lower_bound, upward_rank
from compiler.shapes import resolve

from .builders import span
from .checks import check_nodes_held, check_schedule
from .strategies import experiments, gang_experiments, priced_service_experiments

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(experiments(max_units=25))
def test_heuristic_plans_respect_the_model(exp):
    problem = build(exp)
    for kind in ("makespan", "cost", "weighted"):
        objective = Objective(kind=kind, cost_weight=1.0, span=span())
        schedule = heuristic(problem, objective)
        check_schedule(problem, schedule)
        assert schedule.makespan >= lower_bound(problem) - 1e-6
        if kind == "makespan":
            baseline = run(problem, upward_rank(problem), policy_for(problem, objective), "heft")
            assert schedule.makespan <= baseline.makespan + 1e-6


@QUICK
@given(experiments(max_units=8))
def test_place_agrees_with_its_schedule(exp):
    plan = place(exp)
    problem = build(exp)
    assert [a.unit for a in plan.assignments] == problem.names
    assert plan.makespan >= plan.lower_bound - 1e-6
    assert plan.makespan == pytest.approx(max(a.finish for a in plan.assignments))
    for a in plan.assignments:
        unit = problem.units[problem.index[a.unit]]
        if unit.on:
            assert a.site in unit.on or f"{a.site}.{a.pool}" in unit.on
        assert a.site not in unit.not_on and f"{a.site}.{a.pool}" not in unit.not_on
        assert a.reason
    # Per pool, at every start, the running units' cpus fit in its nodes.
    for a in plan.assignments:
        pool = exp.pool(f"{a.site}.{a.pool}")
        running = [
            b for b in plan.assignments
            if (b.site, b.pool) == (a.site, a.pool) and b.start <= a.start < (b.finish if b.kind == "instance" else float("inf"))
        ]
        assert sum(problem.units[problem.index[b.unit]].resources.cpus for b in running) <= pool.nodes * pool.cpus
    # One transfer per (data, target site).
    keys = [(t.what, t.target_site) for t in plan.transfers]
    assert len(keys) == len(set(keys))
    assert place(exp) == plan  # deterministic


@SLOW
@given(experiments(max_units=6, max_sites=2, max_nodes=2))
def test_exact_is_never_worse_than_the_heuristic_nor_below_the_bound(exp):
    problem = build(exp)
    objective = Objective(span=span())
    found = heuristic(problem, objective)
    solved = exact.solve(problem, objective, found.makespan, time_limit=30, node_limit=20000)
    assume(solved.optimal)  # an unsolved example says nothing; the next one may
    check_schedule(problem, solved.schedule)
    assert solved.schedule.makespan <= found.makespan + 1e-6
    assert solved.schedule.makespan >= lower_bound(problem) - 1e-6


@QUICK
@given(st.one_of(experiments(max_units=8, max_services=2), priced_service_experiments()))
def test_the_cost_objective_never_costs_more_than_the_makespan_objective(exp):
    """Services are paid until the makespan, so a plan of cheap but slow
    pools can cost more than the fastest plan (issue 10)."""
    try:
        fastest = place(exp, Objective(kind="makespan", span=span()))
    except PlacementError:
        assume(False)  # services that hold every pool a later unit needs
    # The makespan plan is a candidate: placing for cost cannot fail where it worked.
    cheapest = place(exp, Objective(kind="cost", span=span()))
    assert cheapest.cost <= fastest.cost


@QUICK
@given(gang_experiments(max_units=12))
def test_gang_stages_never_oversubscribe_a_pools_nodes(exp):
    """Multi-node stages hold all their nodes at once, and no pool ever has
    more nodes held than it has, whatever the objective."""
    problem = build(exp)
    assume(any(g is not None for g in problem.gang))
    for kind in ("makespan", "cost"):
        schedule = heuristic(problem, Objective(kind=kind, span=span()))
        check_schedule(problem, schedule)
        check_nodes_held(problem, schedule)
        assert schedule.makespan >= lower_bound(problem) - 1e-6


@QUICK
@given(gang_experiments(max_units=6))
def test_a_shaped_stage_runs_in_the_shape_its_pool_fits(exp):
    plan = place(exp)
    for a in plan.assignments:
        unit = exp.instance(a.unit)
        if not unit.shapes:
            assert a.shape is None
            continue
        chosen = unit.shapes[a.shape]
        pool = exp.pool(f"{a.site}.{a.pool}")
        assert chosen.resources.nodes <= pool.nodes
        # The first shape that fits is the one used: an earlier one does not fit there.
        assert not shortfalls(exp, resolve(unit, a.shape), pool)
        assert all(shortfalls(exp, resolve(unit, i), pool) for i in range(a.shape))
        assert a.reason.startswith(f"shape {a.shape + 1} of {len(unit.shapes)}")


@QUICK
@given(experiments(max_units=25))
def test_peft_runs_only_when_hefts_plan_is_far_from_the_bound(exp):
    """place.SECOND_OPINION: under the plain makespan objective PEFT is run
    exactly when HEFT's plan is at least that many times the lower bound,
    and the plan is never longer than HEFT's either way."""
    import importlib

    placing = importlib.import_module("compiler.placement.place")
    problem = build(exp)
    objective = Objective(kind="makespan", span=span())
    names: list[str] = []
    real_run = placing.run

    def counting(*args, **kwargs):
        names.append(args[3])
        return real_run(*args, **kwargs)

    placing.run = counting
    try:
        schedule = heuristic(problem, objective, search=False)
    finally:
        placing.run = real_run
    heft = run(problem, upward_rank(problem), policy_for(problem, objective), "heft")
    far = heft.makespan >= placing.SECOND_OPINION * lower_bound(problem)
    assert names == (["heft", "peft"] if far else ["heft"])
    assert schedule.makespan <= heft.makespan + 1e-6
    if not far:
        assert schedule.algorithm == "heft"
