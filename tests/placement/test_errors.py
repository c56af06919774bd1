"""Infeasible problems raise PlacementError with E08xx diagnostics that point
at the culprit and say what to change."""

import pytest

from compiler.ir import Objective
from compiler.placement import PlacementError, place

from .builders import experiment, instance, link, pool, service, site, span

HOUR = 3600.0
SITES = [
    site("charisma", "slurm", [pool("gpu", "charisma", gpus=(4, "a100"), max_time=24 * HOUR)]),
    site("cloud", "kubernetes", [pool("gpu", "cloud", gpus=(1, "t4"), price=2.0)]),
]


def diagnostics(exp, objective=None):
    with pytest.raises(PlacementError) as caught:
        place(exp, objective)
    return caught.value.diagnostics


def test_a_unit_no_pool_can_run_names_the_nearest_pool():
    huge = instance("huge", gpus=(8, "a100"), line=7)
    (d,) = diagnostics(experiment(SITES, [huge]))
    assert d.code == "E0801" and d.span.line == 7
    assert d.message == "no pool can ever run stage instance `huge`"
    assert d.notes[0].message == "nearest is charisma.gpu: needs 8 x a100, has 4 x a100"
    assert d.notes[-1].kind == "help"


def test_a_pin_to_a_pool_without_the_gpu():
    train = instance("train", gpus=(4, "a100"), on=["cloud"], line=9)
    (d,) = diagnostics(experiment(SITES, [train]))
    assert d.code == "E0802" and d.span.line == 9
    assert "pinned to cloud" in d.message
    assert d.notes[0].message == "cloud.gpu: needs 4 x a100, has 1 x t4"
    assert "charisma.gpu" in d.notes[-1].message


def test_every_unplaceable_unit_is_reported_at_once():
    found = diagnostics(experiment(SITES, [instance("a", cpus=99), instance("b", cpus=99)]))
    assert [d.code for d in found] == ["E0801", "E0801"]


def test_a_deadline_that_cannot_be_met_points_at_the_objective():
    objective = Objective(deadline=HOUR, span=span(3))
    chain = [instance("a", estimate=HOUR, outputs={"o": 0}), instance("b", estimate=HOUR, reads={"i": "a:o"})]
    (d,) = diagnostics(experiment(SITES, chain), objective)
    assert d.code == "E0803" and d.span.line == 3
    assert d.message == "the deadline of 1h cannot be met"
    assert any("no plan can take less than 2h" in n.message for n in d.notes)


def test_a_budget_too_small():
    only_cloud = [instance("job", estimate=HOUR, on=["cloud"])]
    objective = Objective(budget=0.01, span=span(4))
    (d,) = diagnostics(experiment(SITES, only_cloud), objective)
    assert d.code == "E0804" and d.span.line == 4
    assert "the cheapest plan found costs 0.25" in d.notes[0].message


def test_a_unit_after_a_service_that_fills_its_only_pool():
    cloud = [site("cloud", "kubernetes", [pool("cpu", "cloud", nodes=1, cpus=8)])]
    prep = instance("prep", outputs={"m": 10})
    api = service("api", reads={"m": "prep:m"}, cpus=8)
    report = instance("report", cpus=4, after=["api"], line=19)
    (d,) = diagnostics(experiment(cloud, [prep, report], services=[api]))
    assert d.code == "E0805" and d.span.line == 19
    assert d.notes[0].message == "it can only run on cloud.cpu"


def test_a_unit_that_can_never_start_without_services_is_not_blamed_on_services():
    """Issue 18: E0805 said "services occupy its pools" with no service in
    sight. Pools without nodes and inputs that never arrive come only from an
    IR the front end did not check, but the message must still be true."""
    empty = [site("ws", "local", [pool("main", "ws", nodes=0)])]
    (d,) = diagnostics(experiment(empty, [instance("job", line=5)]))
    assert d.code == "E0805" and d.span.line == 5
    assert d.message == "stage instance `job` can never start: no node of its pools can take it"
    assert d.notes[-1].message == "declare more nodes, or lower its resources"

    # Two run times near the largest float: the second never ends (inf).
    one = [site("ws", "local")]
    chain = [
        instance("a", estimate=1e308, time=2e308, outputs={"o": 0}),
        instance("b", estimate=1e308, time=2e308, reads={"i": "a:o"}, outputs={"o": 0}),
        instance("c", reads={"i": "b:o"}, line=9),
    ]
    (d,) = diagnostics(experiment(one, chain))
    assert d.code == "E0805" and d.span.line == 9
    assert d.message == "stage instance `c` can never start: it waits for `b`, which never finishes"


def test_a_pool_of_speed_zero_never_finishes_anything():
    """Issue 18: `speed = 0` divided by zero. The front end rejects it; the
    placer, given such an IR, reports it instead of crashing."""
    stalled = [site("ws", "local", [pool("main", "ws", speed=0.0)])]
    (d,) = diagnostics(experiment(stalled, [instance("job", line=3)]))
    assert d.code == "E0801" and d.span.line == 3
    assert d.message == "no pool can ever finish stage instance `job`"
    assert d.notes[0].message == "ws.main has speed 0: the default estimate never ends there"
    # An estimate for the pool itself needs no speed.
    plan = place(experiment(stalled, [instance("job", by_key={"ws.main": 30.0})]))
    assert plan.makespan == 30.0


def test_a_link_without_bandwidth_is_no_link():
    sites = [site("a", "local"), site("b", "local")]
    jobs = [instance("make", outputs={"o": 10}, on=["a"]), instance("use", reads={"i": "make:o"}, on=["b"])]
    plan = place(experiment(sites, jobs, links=[link("a", "b", bandwidth=0.0)]))
    assert any("no link from a to b" in n for n in plan.notes)
