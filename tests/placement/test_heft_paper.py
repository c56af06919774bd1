"""The worked example of Topcuoglu, Hariri and Wu (2002), Fig. 2: ten tasks,
three processors. The published HEFT schedule has makespan 80."""

import pytest

from compiler.ir import Objective
from compiler.placement import exact
from compiler.placement.listsched import policy_for, run
from compiler.placement.model import build
from compiler.placement.ranks import upward_rank

from .builders import experiment, instance, link, pool, site, span
from .checks import check_schedule

COSTS = {  # task: (P1, P2, P3)
    "n1": (14, 16, 9),
    "n2": (13, 19, 18),
    "n3": (11, 13, 19),
    "n4": (13, 8, 17),
    "n5": (12, 13, 10),
    "n6": (13, 16, 9),
    "n7": (7, 15, 11),
    "n8": (5, 11, 14),
    "n9": (18, 12, 20),
    "n10": (21, 7, 16),
}
EDGES = {  # (producer, consumer): communication cost
    ("n1", "n2"): 18, ("n1", "n3"): 12, ("n1", "n4"): 9, ("n1", "n5"): 11, ("n1", "n6"): 14,
    ("n2", "n8"): 19, ("n2", "n9"): 16, ("n3", "n7"): 23, ("n4", "n8"): 27, ("n4", "n9"): 23,
    ("n5", "n9"): 13, ("n6", "n8"): 15, ("n7", "n10"): 17, ("n8", "n10"): 11, ("n9", "n10"): 13,
}
PROCESSORS = ["p1", "p2", "p3"]


def paper_experiment():
    """Each processor is a single-node site; an edge is an output of its own
    whose size (at 1 byte/s) is the communication cost."""
    sites = [site(p, "local", [pool("cpu", p, nodes=1, cpus=1)]) for p in PROCESSORS]
    links = [link(a, b, bandwidth=1.0) for i, a in enumerate(PROCESSORS) for b in PROCESSORS[i + 1 :]]
    instances = []
    for task, costs in COSTS.items():
        reads = {f"from_{src}": f"{src}:to_{task}" for (src, dst) in EDGES if dst == task}
        outputs = {f"to_{dst}": size for (src, dst), size in EDGES.items() if src == task}
        by_key = {f"{p}.cpu": float(c) for p, c in zip(PROCESSORS, costs)}
        instances.append(instance(task, by_key=by_key, reads=reads, outputs=outputs))
    return experiment(sites, instances, links=links)


def heft(exp):
    problem = build(exp)
    policy = policy_for(problem, Objective(span=span()))
    return problem, run(problem, upward_rank(problem), policy, "heft")


def test_upward_ranks_match_the_paper():
    problem = build(paper_experiment())
    rank = dict(zip(problem.names, upward_rank(problem)))
    assert round(rank["n1"], 3) == 108.0
    assert round(rank["n7"], 2) == 42.67
    assert round(rank["n10"], 2) == 14.67


def test_heft_reproduces_makespan_80():
    problem, schedule = heft(paper_experiment())
    assert schedule.makespan == 80.0
    where = {problem.names[u]: PROCESSORS[problem.pool_site[p]] for u, p in enumerate(schedule.pool)}
    # The published schedule: n1 on P3 at 0-9, n10 on P2 finishing at 80.
    assert where["n1"] == "p3" and schedule.start[problem.index["n1"]] == 0.0
    assert where["n10"] == "p2"


def test_the_exact_placer_beats_heft_on_the_paper_example():
    problem, schedule = heft(paper_experiment())
    solved = exact.solve(problem, Objective(span=span()), schedule.makespan)
    assert solved.optimal
    check_schedule(problem, solved.schedule)
    assert solved.schedule.makespan == pytest.approx(73.0)  # proven optimal in this model
