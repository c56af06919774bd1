"""compiler.fit: the hard reasons a unit can never run on a pool."""

from compiler.fit import (
    candidate_pools,
    human_duration,
    human_size,
    nearest_pool,
    shortfalls,
)

from .builders import (
    GiB,
    experiment,
    instance,
    pool,
    secret,
    service,
    site,
    uses_secret,
)

GPU = pool("gpu", "charisma", nodes=2, cpus=48, memory=768 * GiB, gpus=(4, "a100"), max_time=8 * 3600.0)
T4 = pool("gpu", "cloud", nodes=2, cpus=16, memory=64 * GiB, gpus=(1, "t4"))
SITES = [site("charisma", "slurm", [GPU]), site("cloud", "kubernetes", [T4]), site("ws", "local")]


def test_gpu_type_and_count():
    train = instance("train", gpus=(4, "a100"), time=3600.0)
    exp = experiment(SITES, [train])
    assert shortfalls(exp, train, GPU) == []
    assert shortfalls(exp, train, T4) == ["needs 4 x a100, has 1 x t4"]
    assert shortfalls(exp, train, exp.pool("ws.main")) == ["needs 4 x a100, has no GPUs"]
    assert [p.id for p in candidate_pools(exp, train)] == ["charisma.gpu"]


def test_any_gpu_takes_any_type():
    job = instance("job", gpus=(1, None), time=3600.0)
    exp = experiment(SITES, [job])
    assert [p.id for p in candidate_pools(exp, job)] == ["charisma.gpu", "cloud.gpu"]


def test_max_time_cpus_and_memory():
    long = instance("long", time=12 * 3600.0, cpus=64, memory=1024 * GiB)
    exp = experiment(SITES, [long])
    assert shortfalls(exp, long, GPU) == [
        "needs 64 cpus, a node has 48",
        "needs 1 TiB memory, a node has 768 GiB",
        "needs 12h, max_time is 8h",
    ]


def test_pins_and_exclusions():
    pinned = instance("a", on=["charisma"], time=3600.0)
    excluded = instance("b", not_on=["cloud.gpu"])
    exp = experiment(SITES, [pinned, excluded])
    assert shortfalls(exp, pinned, T4) == ["pinned to charisma"]
    assert shortfalls(exp, excluded, T4) == ["excluded by not_on = cloud.gpu"]
    assert [p.id for p in candidate_pools(exp, pinned)] == ["charisma.gpu"]


def test_services_run_on_slurm_too_and_need_room_for_replicas():
    serve = service("serve", replicas=3, cpus=16)
    exp = experiment(SITES, [], services=[serve])
    assert not any("cannot run on" in reason for reason in shortfalls(exp, serve, GPU))
    assert shortfalls(exp, serve, T4) == ["needs 3 replicas, the pool holds 2"]


def test_secrets_need_a_mapping_for_the_site_kind():
    k8s_only = secret("token", kubernetes=("tok", "key"))
    host_only = secret("key", file="~/.key")
    a = instance("a", **uses_secret("token"))
    b = instance("b", **uses_secret("key"))
    exp = experiment(SITES, [a, b], secrets=[k8s_only, host_only])
    assert shortfalls(exp, a, GPU) == ["secret `token` has no env or file mapping for slurm hosts"]
    assert shortfalls(exp, a, T4) == []
    assert shortfalls(exp, b, T4) == ["secret `key` has no kubernetes mapping"]
    assert shortfalls(exp, b, GPU) == []


def test_nearest_pool_has_fewest_shortfalls():
    big = instance("big", gpus=(8, "a100"), time=10 * 3600.0)
    exp = experiment(SITES, [big])
    found = nearest_pool(exp, big)
    assert found is not None and found[0].id == "cloud.gpu"
    assert found[1] == ["needs 8 x a100, has 1 x t4"]


def test_human_units():
    assert human_duration(45) == "45s"
    assert human_duration(3600 * 6 + 60 * 23) == "6h 23m"
    assert human_duration(4 * 86400 + 3600) == "4d 1h"
    assert human_size(25e9) == "25 GB"
