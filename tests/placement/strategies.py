"""Hypothesis strategies: random sites (pools of various shapes, prices,
speeds, GPUs, max_time), links, and random DAGs of stage instances that read
outputs and data sets, some pinned."""

from __future__ import annotations

from hypothesis import strategies as st

from compiler.fit import candidate_pools
from compiler.ir import Objective

from .builders import GiB, dataset, experiment, instance, link, pool, site, span

KINDS = ["slurm", "kubernetes", "local"]


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
def experiments(draw, max_units: int = 12, max_sites: int = 3, max_nodes: int = 3, objective: Objective | None = None):
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
    return experiment(sites, instances, datasets=datasets, links=links, objective=objective or Objective(span=span(2)))
