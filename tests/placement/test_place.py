"""place(): the model (estimates, capacity, transfers, services, objectives)
as the user sees it in the Plan."""

import builtins
import hashlib
import json
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.ir import DatasetRef, KubernetesSettings, Objective, OutputRef, Route
from compiler.placement import place
from compiler.placement.model import NO_LINK_BANDWIDTH, NO_LINK_LATENCY
from compiler.placement.plan import transfer_id

from .builders import (
    GiB,
    dataset,
    experiment,
    instance,
    link,
    pool,
    service,
    site,
    span,
)

HOUR = 3600.0


def two_sites(kind_b="local", **link_args):
    sites = [site("hpc", "slurm", [pool("cpu", "hpc", nodes=4)]), site("ws", kind_b)]
    return sites, [link("hpc", "ws", bandwidth=1e8, **link_args)]


def test_estimate_keys_from_most_to_least_specific():
    sites = [
        site("hpc", "slurm", [pool("a", "hpc", gpus=(1, "a100")), pool("b", "hpc", gpus=(1, "t4"), speed=2.0)]),
    ]
    by_pool = instance("x", estimate=100, by_key={"hpc.a": 10, "a100": 20, "hpc": 30}, on=["hpc.a"])
    by_gpu = instance("y", estimate=100, by_key={"a100": 20, "hpc": 30}, on=["hpc.a"])
    by_site = instance("z", estimate=100, by_key={"hpc": 30}, on=["hpc.b"])
    scaled = instance("w", estimate=100, on=["hpc.b"])
    plan = place(experiment(sites, [by_pool, by_gpu, by_site, scaled]))
    length = {a.unit: a.finish - a.start for a in plan.assignments}
    assert length == {"x": 10, "y": 20, "z": 30, "w": 50}


def test_a_pool_of_two_nodes_runs_two_node_sized_jobs_at_once():
    sites = [site("hpc", "slurm", [pool("cpu", "hpc", nodes=2, cpus=8)])]
    jobs = [instance(f"j{i}", estimate=100, cpus=8) for i in range(4)]
    plan = place(experiment(sites, jobs))
    assert plan.makespan == 200
    assert sorted(a.start for a in plan.assignments) == [0, 0, 100, 100]


def test_small_jobs_pack_on_one_node_by_every_resource():
    sites = [site("ws", "local", [pool("main", "ws", nodes=1, cpus=8, memory=8 * GiB, gpus=(2, "t4"))])]
    by_cpu = [instance(f"c{i}", estimate=10, cpus=4, memory=GiB) for i in range(3)]
    by_gpu = [instance(f"g{i}", estimate=10, cpus=1, memory=GiB, gpus=(1, None)) for i in range(3)]
    assert place(experiment(sites, by_cpu)).makespan == 20
    assert place(experiment(sites, by_gpu)).makespan == 20


_ID_TEXT = st.one_of(st.text(max_size=40), st.text(alphabet="ab9_-.:[]=é ", max_size=40))


@settings(max_examples=400, deadline=None)
@given(_ID_TEXT, _ID_TEXT, _ID_TEXT)
def test_a_transfer_id_is_its_cleaned_parts_and_a_hash_of_its_reference(site, first, second):
    """transfer_id writes its text by hand, for speed (a byte table in place
    of the regular expression where it gives the same, the hashed JSON
    written out): it must equal its definition for any text, or ids change
    under the rules that name them."""
    for what, label in ((OutputRef(instance=first, output=second), f"{first}:{second}"),
                        (DatasetRef(dataset=first), f"dataset:{first}")):
        readable = re.sub(r"[^A-Za-z0-9_]+", "_", f"to_{site}__{label}").strip("_")
        exact = json.dumps([site, what.model_dump()], sort_keys=True, ensure_ascii=False)
        assert transfer_id(site, what) == f"{readable[:80]}_{hashlib.sha256(exact.encode()).hexdigest()[:6]}"


def test_a_producer_and_a_consumer_on_different_sites_imply_one_transfer():
    sites, links = two_sites()
    make = instance("make", outputs={"table": 10**8}, on=["hpc"])
    readers = [instance(f"read{i}", reads={"t": "make:table"}, on=["ws"]) for i in range(2)]
    plan = place(experiment(sites, [make, *readers], links=links))
    (moved,) = plan.transfers
    assert (moved.source_site, moved.target_site, moved.what) == ("hpc", "ws", OutputRef(instance="make", output="table"))
    assert moved.path == moved.target_path == "out/make/table"
    assert moved.consumers == ["read0", "read1"]
    assert moved.id == "to_ws__make_table_" + moved.id.rsplit("_", 1)[1]
    # 60 s of work, then 1 s to move 100 MB at 100 MB/s.
    assert moved.start == 60 and moved.finish == 61
    assert plan.where("read0").start == 61
    assert plan.egress_bytes == 10**8


def test_data_sets_staged_off_their_site():
    sites, links = two_sites(kind_b="kubernetes", egress=0.5)
    coco = dataset("coco", "ws", size=2 * 10**9, uri="s3://bucket/coco")
    local = dataset("imgs", "ws", size=10**9, uri="/data/imgs")
    job = instance("job", reads={"a": "dataset:coco", "b": "dataset:imgs"}, on=["hpc"])
    plan = place(experiment(sites, [job], datasets=[coco, local], links=links))
    by_what = {t.what: t for t in plan.transfers}
    coco_ref = DatasetRef(dataset="coco")
    assert set(by_what) == {coco_ref, DatasetRef(dataset="imgs")}
    assert by_what[coco_ref].target_path == "datasets/coco"
    assert by_what[coco_ref].path == "s3://bucket/coco"
    assert by_what[coco_ref].cost == pytest.approx(1.0)  # 2 GB at 0.5 per GB
    # hpc's login host pulls from object storage over the link (2 GB at
    # 100 MB/s); the Kubernetes volume goes through its staging bucket (a push
    # Job, then hpc's login host downloads), priced over the same link.
    assert by_what[coco_ref].route == Route(kind="direct-pull", runs_on="hpc")
    imgs = by_what[DatasetRef(dataset="imgs")]
    assert imgs.route == Route(kind="via-store", runs_on="hpc", staging="s3://staging/mlc")
    assert (imgs.finish - imgs.start, imgs.cost) == (pytest.approx(1e9 / 1e8), pytest.approx(0.5))
    assert plan.cost == pytest.approx(1.5)
    assert plan.where("job").start == pytest.approx(max(imgs.finish, by_what[coco_ref].finish))


def test_a_cluster_without_staging_or_exec_is_reached_by_no_transfer():
    from compiler.placement.errors import PlacementError

    sites = [site("hpc", "slurm"), site("cloud", "kubernetes", kubernetes=KubernetesSettings())]
    make = instance("make", estimate=10, outputs={"m": 10}, on=["hpc"])
    use = instance("use", estimate=10, reads={"m": "make:m"}, on=["cloud"])
    with pytest.raises(PlacementError) as raised:
        place(experiment(sites, [make, use]))
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == "E0806" and "`staging = " in diagnostic.notes[-1].message


def test_a_relay_is_priced_over_both_links_it_crosses():
    # The rtmdet shape: cluster and cloud joined by a fast link neither can
    # use (no end reaches the other), each joined to the workstation by a slow one.
    sites = [site("hpc", "slurm"), site("cloud", "kubernetes", kubernetes=KubernetesSettings(data_path="exec")),
             site("ws", "local")]
    links = [link("hpc", "cloud", bandwidth=1.25e8, egress=1.0), link("hpc", "ws", bandwidth=1.25e7, latency=0.005),
             link("ws", "cloud", bandwidth=2.5e7, latency=0.03, egress=0.05)]
    make = instance("make", estimate=10, outputs={"m": 10**9}, on=["hpc"])
    use = instance("use", estimate=10, reads={"m": "make:m"}, on=["cloud"])
    back = instance("back", estimate=10, reads={"m": "make:m"}, on=["ws"])
    plan = place(experiment(sites, [make, use, back], links=links))
    by_target = {t.target_site: t for t in plan.transfers}
    relayed, pulled = by_target["cloud"], by_target["ws"]
    assert relayed.route == Route(kind="relay")
    # Streamed: both latencies, the slower hop's pace (100 Mbit/s), both hops' egress.
    assert relayed.finish - relayed.start == pytest.approx(0.035 + 1e9 / 1.25e7)
    assert relayed.cost == pytest.approx(0.05)
    assert pulled.route == Route(kind="direct-pull", runs_on="ws")
    assert pulled.finish - pulled.start == pytest.approx(0.005 + 1e9 / 1.25e7)
    assert any("through ws" in note for note in plan.notes)


def test_the_scheduler_weighs_transfers_against_speed():
    fast = pool("gpu", "far", speed=4.0)
    sites = [site("near", "local"), site("far", "slurm", [fast])]
    data = dataset("big", "near", size=10**10)
    job = instance("job", estimate=1000, reads={"d": "dataset:big"})
    slow_link = [link("near", "far", bandwidth=10**7)]  # 1000 s to move
    quick_link = [link("near", "far", bandwidth=10**9)]  # 10 s to move
    assert place(experiment(sites, [job], datasets=[data], links=slow_link)).where("job").site == "near"
    plan = place(experiment(sites, [job], datasets=[data], links=quick_link))
    assert plan.where("job").site == "far"
    assert "despite the 10 GB transfer" in plan.where("job").reason


def test_no_link_means_a_slow_documented_default():
    sites = [site("a", "local"), site("b", "slurm")]
    make = instance("make", outputs={"o": 10**6}, on=["a"])
    use = instance("use", reads={"i": "make:o"}, on=["b"])
    plan = place(experiment(sites, [make, use]))
    assert plan.where("use").start == pytest.approx(60 + 0.1 + 10**6 / NO_LINK_BANDWIDTH)
    assert any("no link from a to b" in n for n in plan.notes)


def test_services_start_when_inputs_are_ready_and_hold_their_pool():
    sites = [site("hpc", "slurm"), site("cloud", "kubernetes", [pool("cpu", "cloud", nodes=1, cpus=4)],
                                        kubernetes=KubernetesSettings(data_path="exec"))]
    links = [link("hpc", "cloud", bandwidth=1e9)]
    train = instance("train", estimate=100, outputs={"m": 0}, on=["hpc"])
    serve = service("serve", reads={"m": "train:m"}, cpus=4, on=["cloud"])  # Slurm could host it too
    later = instance("later", estimate=10, cpus=4, on=["cloud"])
    plan = place(experiment(sites, [train, later], services=[serve], links=links))
    served = plan.where("serve")
    # The model is relayed (neither end reaches the other) through the
    # workflow machine, which no link joins: two no-link hops.
    ready = pytest.approx(100 + 2 * NO_LINK_LATENCY)
    assert (served.site, served.kind, served.start, served.finish) == ("cloud", "service", ready, ready)
    # `later` needs the whole cloud node, so it runs before the service takes it for good.
    assert plan.where("later").finish <= served.start
    assert plan.makespan == ready


def test_over_the_time_limit_is_a_warning_and_a_missing_estimate_a_note():
    sites = [site("ws", "local")]
    slow = instance("slow", estimate=2 * HOUR, time=HOUR)
    guess = instance("guess", estimate=HOUR, stated=False)
    plan = place(experiment(sites, [slow, guess]))
    assert any("`slow` is expected to run longer than its time limit" in n for n in plan.notes)
    assert any("no estimate given for guess" in n for n in plan.notes)


def test_cost_objective_prefers_the_cheap_pool_unless_the_deadline_forbids():
    sites = [site("cloud", "kubernetes", [pool("fast", "cloud", price=10.0, speed=4.0), pool("slow", "cloud", price=1.0)])]
    job = instance("job", estimate=4 * HOUR, time=8 * HOUR)
    exp = experiment(sites, [job])
    assert place(exp, Objective(kind="cost")).where("job").pool == "slow"
    assert place(exp, Objective(kind="cost", deadline=2 * HOUR)).where("job").pool == "fast"
    assert place(exp).where("job").pool == "fast"
    # A job takes 1/8 of a node: 1.25 on the fast pool, 0.5 on the slow one.
    assert place(exp, Objective(kind="makespan", budget=1.0)).where("job").pool == "slow"


def test_reasons_name_the_constraint():
    sites = [site("charisma", "slurm", [pool("gpu", "charisma", gpus=(4, "a100"))]), site("cloud", "kubernetes")]
    train = instance("train", gpus=(4, "a100"))
    pinned = instance("pinned", on=["cloud"])
    plan = place(experiment(sites, [train, pinned]))
    assert plan.where("train").reason == "only charisma.gpu offers a100"
    assert plan.where("pinned").reason == "pinned to cloud"


def test_the_plan_is_the_same_without_scipy(monkeypatch):
    """The exact MILP never chooses the plan (tests/placement/test_extras.py
    checks the shipped examples the same way, in a fresh process)."""
    sites = [site("a", "local"), site("b", "slurm")]
    jobs = [instance(f"j{i}", estimate=10 * (i + 1)) for i in range(4)]
    exp = experiment(sites, jobs, objective=Objective(kind="cost", span=span()))
    with_scipy = place(exp)
    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name == "scipy" or name.startswith("scipy."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    for name in [m for m in sys.modules if m == "scipy" or m.startswith("scipy.")]:
        monkeypatch.delitem(sys.modules, name)
    plan = place(exp)
    assert plan == with_scipy
    assert not any("scipy" in note or "MILP" in note for note in plan.notes)


def test_a_service_paid_until_the_makespan_makes_slow_free_pools_dear():
    """Issue 10: the cost objective put both jobs on the free workstation
    (4 h) and so paid the service 4 h: 4.00, against 1.25 for the makespan
    objective's plan (1 h of service, two eighths of a node for 1 h)."""
    sites = [
        site("cloud", "kubernetes", [pool("fast", "cloud", nodes=2, cpus=8, price=1.0, speed=4.0)]),
        site("ws", "local", [pool("main", "ws", cpus=8)]),
    ]
    jobs = [instance(f"j{i}", estimate=4 * HOUR, time=8 * HOUR) for i in range(2)]
    exp = experiment(sites, jobs, services=[service("api", cpus=8, on=["cloud"])])
    fastest = place(exp, Objective(kind="makespan", span=span()))
    cheapest = place(exp, Objective(kind="cost", span=span()))
    assert fastest.cost == pytest.approx(1.25)
    assert cheapest.cost == pytest.approx(1.25)
    assert {a.unit: a.pool for a in cheapest.assignments} == {"api": "fast", "j0": "fast", "j1": "fast"}


def test_service_replicas_each_take_a_node_share():
    sites = [site("cloud", "kubernetes", [pool("cpu", "cloud", nodes=2, cpus=8, price=1.0)])]
    make = instance("make", estimate=100, outputs={"m": 0}, cpus=8)
    other = instance("other", estimate=300, cpus=4)
    serve = service("serve", reads={"m": "make:m"}, cpus=6, replicas=2)
    plan = place(experiment(sites, [make, other], services=[serve]))
    # Two replicas of 6 cpus need both nodes with 6 free: after `other` ends.
    assert plan.where("serve").start == 300
    assert plan.makespan == 300


def test_ties_keep_gpu_nodes_for_gpu_work():
    sites = [site("hpc", "slurm", [pool("gpu", "hpc", gpus=(4, "a100")), pool("cpu", "hpc")])]
    plan = place(experiment(sites, [instance("cpu_job")]))
    assert plan.where("cpu_job").pool == "cpu"
    assert plan.where("cpu_job").reason == "hpc.cpu: as early as hpc.gpu, and leaves its GPUs to GPU work"


def test_peft_is_a_second_opinion_only_far_from_the_bound(monkeypatch):
    """HEFT's plan at the lower bound: PEFT is not run. HEFT's plan four
    times the bound (a transfer the bound does not count): PEFT runs too."""
    import importlib

    placing = importlib.import_module("compiler.placement.place")
    ran: list[str] = []
    real_run = placing.run
    monkeypatch.setattr(placing, "run", lambda *args, **kwargs: ran.append(args[3]) or real_run(*args, **kwargs))
    fast = pool("gpu", "far", speed=4.0)
    sites = [site("near", "local"), site("far", "slurm", [fast])]
    data = dataset("big", "near", size=10**10)
    slow_link = [link("near", "far", bandwidth=10**7)]  # 1000 s to move

    plan = place(experiment(sites, [instance("job", estimate=1000)], links=slow_link))
    assert plan.makespan == plan.lower_bound == 250.0
    assert ran == ["heft"] and plan.algorithm == "heft"

    ran.clear()
    pinned = instance("job", estimate=1000, reads={"d": "dataset:big"}, on=["far"])
    plan = place(experiment(sites, [pinned], datasets=[data], links=slow_link))
    assert plan.makespan >= placing.SECOND_OPINION * plan.lower_bound
    assert ran == ["heft", "peft"]


def test_the_local_search_runs_only_with_min_search_re_schedulings_or_more(monkeypatch):
    """Below MIN_SEARCH re-schedulings the search is skipped; from
    MIN_SEARCH on it runs, with that budget, and never lengthens the plan."""
    import importlib

    placing = importlib.import_module("compiler.placement.place")
    searched: list[int] = []
    real_improve = placing.improve
    monkeypatch.setattr(placing, "improve",
                        lambda problem, best, *args: searched.append(args[2]) or real_improve(problem, best, *args))
    sites = [site("hpc", "slurm", [pool("cpu", "hpc", nodes=2), pool("big", "hpc", nodes=2, speed=2.0)])]
    units = [instance(f"job{i}", estimate=100 * (i + 1)) for i in range(4)]
    # Four units: the budget is SEARCH_WORK // 4 re-schedulings.
    monkeypatch.setattr(placing, "SEARCH_WORK", 4 * (placing.MIN_SEARCH - 1))
    below = place(experiment(sites, units))
    assert searched == []
    monkeypatch.setattr(placing, "SEARCH_WORK", 4 * placing.MIN_SEARCH)
    at = place(experiment(sites, units))
    assert searched == [placing.MIN_SEARCH]
    assert at.makespan <= below.makespan
