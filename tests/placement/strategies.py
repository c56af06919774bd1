"""Hypothesis strategies: random sites (pools of various shapes, prices,
speeds, GPUs, max_time), links, and random DAGs of stage instances that read
outputs and data sets, some pinned."""

from __future__ import annotations

from hypothesis import strategies as st

from compiler.fit import candidate_pools
from compiler.ir import Objective, Shape
from compiler.sites import registry

from .builders import GiB, dataset, experiment, instance, link, pool, service, site, span

KINDS = list(registry.KINDS)  # every kind the compiler knows


@st.composite
def platforms(draw, max_sites: int = 3, max_nodes: int = 3):
    nsites = draw(st.integers(1, max_sites))
    sites = []
    for i in range(nsites):
        name = f"s{i}"
        kind = draw(st.sampled_from(KINDS))
        pools = []
        for j in range(draw(st.integers(1, 2))):
            gpus = draw(st.sampled_from([None, (1, "t4"), (2, "a100")]))
            pools.append(
                pool(
                    f"p{j}",
                    name,
                    nodes=draw(st.integers(1, max_nodes)),
                    cpus=draw(st.sampled_from([2, 4, 8])),
                    memory=draw(st.sampled_from([4, 16])) * GiB,
                    gpus=gpus,
                    max_time=draw(st.sampled_from([None, None, 7200.0])),
                    price=draw(st.sampled_from([0.0, 0.5, 2.0])),
                    speed=draw(st.sampled_from([0.5, 1.0, 2.0])),
                )
            )
        sites.append(site(name, kind, pools))
    links = []
    for a in range(nsites):
        for b in range(a + 1, nsites):
            if draw(st.booleans()):
                links.append(
                    link(
                        f"s{a}",
                        f"s{b}",
                        bandwidth=draw(st.sampled_from([1e6, 1e8])),
                        latency=draw(st.sampled_from([0.0, 0.5])),
                        egress=draw(st.sampled_from([0.0, 0.1])),
                    )
                )
    return sites, links


@st.composite
def experiments(
    draw,
    max_units: int = 12,
    max_sites: int = 3,
    max_nodes: int = 3,
    objective: Objective | None = None,
    max_services: int = 0,
    min_services: int = 0,
):
    """`max_services` > 0 adds up to that many services (some pinned to a
    pool, each reading some instance's output or nothing); they hold a pool's
    capacity for ever, so some such experiments cannot be placed at all."""
    sites, links = draw(platforms(max_sites, max_nodes))
    pool_ids = [p.id for s in sites for p in s.pools]
    datasets = []
    if draw(st.booleans()):
        datasets.append(dataset("d0", draw(st.sampled_from([s.name for s in sites])), size=draw(st.sampled_from([10**6, 10**8]))))
    n = draw(st.integers(1, max_units))
    instances = []
    for i in range(n):
        reads = {}
        for j in range(i):
            if draw(st.integers(0, 3)) == 0:
                reads[f"from_t{j}"] = f"t{j}:out"
        if datasets and draw(st.integers(0, 4)) == 0:
            reads["data"] = "dataset:d0"
        pins = {}
        pin = draw(st.sampled_from([None, None, None, "on", "not_on"]))
        if pin:
            target = draw(st.sampled_from(pool_ids + [s.name for s in sites]))
            pins = {pin: [target]}
        by_key = {}
        if draw(st.booleans()):
            by_key[draw(st.sampled_from(pool_ids))] = float(draw(st.integers(1, 600)))
        unit = instance(
            f"t{i}",
            estimate=float(draw(st.integers(1, 600))),
            by_key=by_key,
            reads=reads,
            outputs={"out": draw(st.sampled_from([0, 10**5, 10**7]))},
            cpus=draw(st.integers(1, 4)),
            memory=draw(st.sampled_from([1, 2])) * GiB,
            gpus=draw(st.sampled_from([None, None, (1, None), (1, "t4")])),
            time=draw(st.sampled_from([3600.0, 10000.0])),
            **pins,
        )
        probe = experiment(sites, [], links=links)
        if not candidate_pools(probe, unit):
            # Keep the problem feasible: drop what no pool offers.
            unit = instance(f"t{i}", estimate=unit.estimate.default, reads=reads, outputs={"out": unit.outputs[0].size}, time=3600.0)
        instances.append(unit)
    services = []
    for k in range(draw(st.integers(min_services, max_services))):
        reads = {}
        source = draw(st.sampled_from([None, *range(n)]))
        if source is not None:
            reads["model"] = f"t{source}:out"
        pins = {}
        if draw(st.booleans()):
            # A service on a priced pool is paid until the makespan: the
            # case where placement's choices for other units change its cost.
            priced = [p.id for s in sites for p in s.pools if p.price > 0]
            pins["on"] = [draw(st.sampled_from(priced or pool_ids))]
        unit = service(f"svc{k}", reads=reads, cpus=draw(st.sampled_from([1, 2, 8])), replicas=draw(st.integers(1, 2)), **pins)
        if not candidate_pools(experiment(sites, [], links=links), unit):
            unit = service(f"svc{k}", reads=reads)
        services.append(unit)
    return experiment(sites, instances, services=services, datasets=datasets, links=links,
                      objective=objective or Objective(span=span(2)))


@st.composite
def priced_service_experiments(draw, max_units: int = 6):
    """A priced, fast cloud where services run, and a free but slower
    machine: the cost objective is tempted to run jobs slowly for free, while
    the services it pays for run until the last job ends."""
    cloud = pool(
        "fast", "cloud",
        nodes=draw(st.integers(1, 3)),
        cpus=8,
        price=draw(st.sampled_from([0.5, 1.0, 2.0])),
        speed=draw(st.sampled_from([2.0, 4.0])),
    )
    machine = pool("main", "ws", nodes=draw(st.integers(1, 2)), cpus=draw(st.sampled_from([4, 8])),
                   speed=draw(st.sampled_from([0.5, 1.0])))
    sites = [site("cloud", "kubernetes", [cloud]), site("ws", "local", [machine])]
    links = [link("cloud", "ws", bandwidth=draw(st.sampled_from([1e6, 1e8])))] if draw(st.booleans()) else []
    instances = []
    for i in range(draw(st.integers(1, max_units))):
        reads = {f"from_t{j}": f"t{j}:out" for j in range(i) if draw(st.integers(0, 3)) == 0}
        instances.append(instance(
            f"t{i}",
            estimate=float(draw(st.sampled_from([600, 4 * 3600, 4 * 3600]))),
            reads=reads,
            outputs={"out": draw(st.sampled_from([0, 10**7]))},
            cpus=draw(st.integers(1, 4)),
            time=8 * 3600.0,
        ))
    services = []
    for k in range(draw(st.integers(1, 2))):
        # Mostly from the start: the longer a service runs, the more it costs.
        source = draw(st.sampled_from([None, None, None, *range(len(instances))]))
        services.append(service(
            f"svc{k}",
            reads={"model": f"t{source}:out"} if source is not None else {},
            cpus=draw(st.sampled_from([1, 4, 8])),
            on=["cloud"],
        ))
    return experiment(sites, instances, services=services, links=links)


@st.composite
def gang_experiments(draw, max_units: int = 12):
    """Random experiments with multi-node (gang) stages mixed in: some
    instances ask for 2 or 3 whole nodes, some state two shapes (a gang and
    a single node); the ones no pool can hold stay single-node."""
    exp = draw(experiments(max_units=max_units, max_nodes=4))
    instances = []
    for unit in exp.instances:
        choice = draw(st.sampled_from(["plain", "gang", "gang", "shapes"]))
        nodes = draw(st.integers(2, 3))
        if choice == "gang":
            changed = unit.model_copy(update={"resources": unit.resources.model_copy(update={"nodes": nodes})})
        elif choice == "shapes":
            gang = Shape(resources=unit.resources.model_copy(update={"nodes": nodes}), estimate=unit.estimate,
                         span=span(1))
            single = Shape(resources=unit.resources, estimate=unit.estimate.model_copy(
                update={"default": unit.estimate.default * nodes, "by_key": {}}), span=span(1))
            changed = unit.model_copy(update={"shapes": [gang, single]})
        else:
            changed = unit
        instances.append(changed if candidate_pools(exp, changed) else unit)
    return exp.model_copy(update={"instances": instances})
