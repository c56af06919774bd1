"""The local search resumes list schedules from a state taken part-way
(listsched.State), and runs give up once sure to end later than a rival:
neither may change what a full re-run gives or which plan is chosen."""

from __future__ import annotations

from dataclasses import asdict, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.ir import Objective
from compiler.placement.listsched import NoCapacity, advance, policy_for, run, schedule_of, start
from compiler.placement.model import build
from compiler.placement.place import checkpoints
from compiler.placement.ranks import optimistic_cost_table, row_means, upward_rank
from compiler.placement.schedule import better, beyond, schedule_score
from compiler.placement.search import _moves, _variants, improve

from .builders import span
from .strategies import experiments, gang_experiments

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OBJECTIVES = [Objective(span=span()), Objective(kind="cost", span=span()),
              Objective(kind="weighted", cost_weight=1.0, span=span())]


def _same(a, b) -> None:
    """Equal schedules; the states a run kept for the search are no part of one."""
    assert asdict(replace(a, saved=[])) == asdict(replace(b, saved=[]))


def _placeable(exp):
    """The experiment's problem when the search has choices to make, else None."""
    problem = build(exp)
    if problem.n < 2 or problem.unreachable or not all(problem.options):
        return None
    return problem


@SETTINGS
@given(st.one_of(experiments(max_units=14, max_services=2), gang_experiments(max_units=10)),
       st.sampled_from(OBJECTIVES), st.data())
def test_resuming_from_a_state_equals_a_full_run(exp, objective, data):
    problem = _placeable(exp)
    if problem is None:
        return
    policy = policy_for(problem, objective)
    rank = upward_rank(problem)
    try:
        base = run(problem, rank, policy, "heft")
    except NoCapacity:
        return
    k = data.draw(st.integers(0, problem.n - 1))
    u = base.order[k]
    p = data.draw(st.sampled_from(problem.options[u]))
    before_u = start(problem, rank, policy)
    advance(problem, before_u, policy, fixed=dict(enumerate(base.pool)), until=k)
    assert before_u.order == base.order[:k]
    for fixed in _variants(base, u, p):
        try:
            full = run(problem, rank, policy, "trial", fixed=fixed)
        except NoCapacity:
            continue
        state = before_u.copy()
        advance(problem, state, policy, fixed=fixed)
        _same(schedule_of(problem, state, "trial"), full)
    # Resuming never changed the state it was copied from.
    again = start(problem, rank, policy)
    advance(problem, again, policy, fixed=dict(enumerate(base.pool)), until=k)
    assert [getattr(again, name) for name in ("order", "pool_of", "start_of", "finish_of", "heap", "waiting")] == \
        [getattr(before_u, name) for name in ("order", "pool_of", "start_of", "finish_of", "heap", "waiting")]


def _improve_by_full_runs(problem, schedule, priority, policy, max_evaluations):
    """The local search as it was before resuming: every trial a full run."""
    objective = policy.objective
    best, best_score = schedule, schedule_score(objective, schedule)
    evaluations = 0
    name = f"{schedule.algorithm} + local search"
    while evaluations < max_evaluations:
        improved = False
        for u in _moves(problem, objective, best):
            for p in problem.options[u]:
                if p == best.pool[u]:
                    continue
                for fixed in _variants(best, u, p):
                    if evaluations >= max_evaluations:
                        return best
                    trial = run(problem, priority, policy, name, fixed=fixed)
                    evaluations += 1
                    score = schedule_score(objective, trial)
                    if better(score, best_score):
                        best, best_score, improved = trial, score, True
                        break
                if improved:
                    break
            if improved:
                break
        if not improved:
            break
    return best


@SETTINGS
@given(st.one_of(experiments(max_units=14, max_services=2), gang_experiments(max_units=10)),
       st.sampled_from(OBJECTIVES), st.integers(1, 30), st.booleans())
def test_the_search_finds_what_full_re_runs_find(exp, objective, budget, kept):
    """Also when trials resume from states the first run kept (`kept`)."""
    problem = _placeable(exp)
    if problem is None:
        return
    policy = policy_for(problem, objective)
    rank = upward_rank(problem)
    try:
        base = run(problem, rank, policy, "heft", keep=checkpoints(problem.n) if kept else ())
        expected = _improve_by_full_runs(problem, base, rank, policy, budget)
    except NoCapacity:
        return
    _same(improve(problem, base, rank, policy, budget), expected)


@SETTINGS
@given(st.one_of(experiments(max_units=14, max_services=2), gang_experiments(max_units=10)))
def test_a_run_gives_up_only_when_it_would_end_later(exp):
    """PEFT is abandoned once sure to end after HEFT's plan (place.py): it
    must then really end later, and otherwise be the same schedule."""
    problem = _placeable(exp)
    if problem is None:
        return
    policy = policy_for(problem, Objective(span=span()))
    lookahead = optimistic_cost_table(problem)
    oct_rank = row_means(lookahead)
    try:
        heft = run(problem, upward_rank(problem), policy, "heft")
        peft = run(problem, oct_rank, policy, "peft", lookahead=lookahead)
    except NoCapacity:
        return
    for limit in (heft.makespan, peft.makespan, peft.makespan * 0.9):
        cut = run(problem, oct_rank, policy, "peft", lookahead=lookahead, give_up=beyond(limit))
        if cut is None:
            assert peft.makespan > limit
        else:
            _same(cut, peft)
    assert run(problem, oct_rank, policy, "peft", lookahead=lookahead, give_up=beyond(peft.makespan)) is not None


_STATE = ("order", "pool_of", "node_of", "start_of", "finish_of", "done", "heap", "waiting", "egress_total",
          "spent", "horizon", "remaining_min", "present")


@SETTINGS
@given(st.one_of(experiments(max_units=14, max_services=2), gang_experiments(max_units=10)),
       st.sampled_from(OBJECTIVES), st.booleans(), st.booleans(), st.data())
def test_a_prefix_taken_from_the_plan_equals_one_searched_again(exp, objective, peft, explained, data):
    """The local search's prefix takes each unit's start and node from the
    plan it improves (`known`) instead of searching again: the state must be
    the one the search gives, whichever run made the plan (HEFT or PEFT,
    recording its offers or not)."""
    problem = _placeable(exp)
    if problem is None:
        return
    policy = policy_for(problem, objective)
    lookahead = optimistic_cost_table(problem) if peft else None
    priority = row_means(lookahead) if peft else upward_rank(problem)
    slots = [[] for _ in range(problem.n)] if explained else None
    try:
        base = run(problem, priority, policy, "plan", lookahead=lookahead, explain=slots)
    except NoCapacity:
        return
    k = data.draw(st.integers(0, problem.n))
    searched = start(problem, priority, policy)
    advance(problem, searched, policy, fixed=dict(enumerate(base.pool)), until=k)
    taken = start(problem, priority, policy)
    advance(problem, taken, policy, fixed=dict(enumerate(base.pool)), until=k, known=base)
    assert [getattr(taken, name) for name in _STATE] == [getattr(searched, name) for name in _STATE]
    # And what follows from either is the same schedule.
    u = base.order[k] if k < problem.n else None
    fixed = dict(enumerate(base.pool))
    if u is not None:
        fixed[u] = data.draw(st.sampled_from(problem.options[u]))
    try:
        advance(problem, searched, policy, lookahead=lookahead, fixed=fixed)
        advance(problem, taken, policy, lookahead=lookahead, fixed=fixed)
    except NoCapacity:
        return
    _same(schedule_of(problem, taken, "trial"), schedule_of(problem, searched, "trial"))
