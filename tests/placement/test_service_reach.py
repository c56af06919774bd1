"""Services as inputs in placement: a consumer is only ever placed where it
reaches every service it uses (SiteKind.service_reach), the plan's reason
says how, and a service whose lifetime is the experiment is paid for until
its last consumer finishes."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from compiler.ir import Input, KubernetesSettings
from compiler.placement import PlacementError, place
from compiler.sites import registry

from .builders import experiment, instance, pool, service, site, span
from .strategies import experiments

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def consumed_services(draw):
    """Random experiments whose services are bound as inputs of later
    instances (so no cycle), on sites of every kind, some Kubernetes sites
    declaring an exposure."""
    exp = draw(experiments(max_units=8, max_sites=3, max_services=2, min_services=1))
    sites = [
        s.model_copy(update={"kubernetes": KubernetesSettings(expose="apps.example.org")})
        if s.kind == "kubernetes" and draw(st.booleans()) else s
        for s in exp.sites
    ]
    first_reader = {}
    for svc in exp.services:
        producers = [int(p[1:]) for inp in svc.inputs for p, _ in inp.outputs]
        first_reader[svc.name] = max(producers, default=-1) + 1
    instances = []
    for i, inst in enumerate(exp.instances):
        bound = [svc.name for svc in exp.services if i >= first_reader[svc.name] and draw(st.booleans())]
        inputs = [*inst.inputs, *(Input(name=f"api_{name}", service=name, span=span()) for name in bound)]
        instances.append(inst.model_copy(update={"inputs": inputs}))
    services = [
        svc.model_copy(update={
            "consumers": sorted(i.id for i in instances if any(p.service == svc.name for p in i.inputs)),
            "lifetime": draw(st.sampled_from(["experiment", "persistent"])),
        })
        for svc in exp.services
    ]
    return exp.model_copy(update={"sites": sites, "instances": instances, "services": services})


@PROPERTY
@given(consumed_services())
def test_no_consumer_is_placed_where_a_service_it_uses_is_unreachable(exp):
    try:
        plan = place(exp)
    except PlacementError as error:
        assume(False)  # infeasible for other reasons, or E0750: checked below
        raise AssertionError(error) from None
    for inst in exp.instances:
        where = exp.site(plan.where(inst.id).site)
        for port in inst.inputs:
            if port.service is None:
                continue
            served = exp.site(plan.where(port.service).site)
            assert registry.of(served).service_reach(served, where) is not None, (inst.id, port.service)
            assert f"`{port.service}` by {registry.of(served).service_reach(served, where)}" in plan.where(inst.id).reason


def _two_sites(expose: str | None):
    k8s = site("k8s", "kubernetes", [pool("cpu", "k8s", nodes=2, price=1.0)])
    if expose:
        k8s = k8s.model_copy(update={"kubernetes": KubernetesSettings(expose=expose)})
    return [k8s, site("ws", "local", [pool("main", "ws", nodes=1)])]


def _consumer(name: str, on: list[str], estimate: float = 3600.0):
    inst = instance(name, estimate=estimate, on=on)
    return inst.model_copy(update={"inputs": [Input(name="api", service="detector", span=span())]})


def test_a_consumer_elsewhere_needs_the_declared_exposure():
    consumers = [_consumer("load", ["ws"])]
    detector = service("detector", on=["k8s"], consumers=["load"], lifetime="experiment")
    closed = experiment(_two_sites(None), consumers, services=[detector])
    try:
        place(closed)
        raise AssertionError("placed a consumer where it cannot reach its service")
    except PlacementError as error:
        assert [d.code for d in error.diagnostics] == ["E0750"]
        assert "declares no `expose`" in str(error.diagnostics[0].notes)
    plan = place(experiment(_two_sites("apps.example.org"), consumers, services=[detector]))
    assert plan.where("load").site == "ws"
    assert "reaches `detector` by the ingress host of k8s (apps.example.org)" in plan.where("load").reason


def test_an_unpinned_consumer_goes_where_it_reaches_the_service():
    consumers = [_consumer(f"load{i}", []) for i in range(3)]
    detector = service("detector", on=["k8s"], consumers=[c.id for c in consumers], lifetime="experiment")
    plan = place(experiment(_two_sites(None), consumers, services=[detector]))
    assert {plan.where(c.id).site for c in consumers} == {"k8s"}
    assert all("cluster DNS" in plan.where(c.id).reason for c in consumers)


def test_a_service_for_the_experiment_is_paid_until_its_last_consumer_finishes():
    early = _consumer("early", ["ws"], estimate=600.0)
    late = instance("late", estimate=7200.0, on=["ws"], after=["early"])  # no service: runs on after it
    sites = _two_sites("apps.example.org")
    cost = {}
    for lifetime in ("experiment", "persistent"):
        detector = service("detector", on=["k8s"], consumers=["early"], lifetime=lifetime)
        plan = place(experiment(sites, [early, late], services=[detector]))
        assert plan.where("late").finish == 7800.0
        cost[lifetime] = plan.where("detector").cost
    # Paid for 600 s (until `early` ends) against the whole 7,800 s plan.
    assert cost["experiment"] > 0
    assert abs(cost["experiment"] / cost["persistent"] - 600 / 7800) < 1e-9


def test_a_service_for_the_experiment_frees_its_nodes_after_its_last_consumer():
    """One GPU node: the service holds it while `load` calls it from the
    workstation; the GPU stage placed after them starts when `load` ends.
    A persistent service keeps the node for ever: the stage cannot run."""
    k8s = site("k8s", "kubernetes", [pool("gpu", "k8s", nodes=1, gpus=(1, "t4"))])
    k8s = k8s.model_copy(update={"kubernetes": KubernetesSettings(expose="apps.example.org")})
    sites = [k8s, site("ws", "local", [pool("main", "ws", nodes=1)])]
    load = _consumer("load", ["ws"], estimate=7200.0)
    train = instance("train", estimate=600.0, gpus=(1, "t4"))
    for lifetime in ("experiment", "persistent"):
        detector = service("detector", on=["k8s"], consumers=["load"], lifetime=lifetime)
        detector = detector.model_copy(update={"resources": train.resources})
        exp = experiment(sites, [load, train], services=[detector])
        if lifetime == "persistent":
            try:
                place(exp)
                raise AssertionError("a persistent service gave its node back")
            except PlacementError as error:
                assert [d.code for d in error.diagnostics] == ["E0805"]
            continue
        plan = place(exp)
        assert plan.where("detector").start == 0.0
        assert plan.where("load").finish == 7200.0
        assert (plan.where("train").start, plan.where("train").finish) == (7200.0, 7800.0)
        assert "holds its nodes until 2h (its last consumer's end)" in plan.where("detector").reason
