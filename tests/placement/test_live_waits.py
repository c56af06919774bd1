"""`mlc plan --live` (issue 16, item 6): a pool whose queue would hold a job
for a while starts nothing before then, so the plan prefers a pool that
starts at once, and the reasons say why. Without waits the plan is the
offline one."""

from __future__ import annotations

from datetime import datetime

from compiler.placement import live, place
from compiler.sites.slurm.queue import parse_start, probe_argv

from .builders import experiment, instance, pool, site


def _two_partitions():
    sites = [site("hpc", "slurm", [pool("a", "hpc"), pool("b", "hpc")])]
    return experiment(sites, [instance("x", estimate=60, outputs={"out": 0}), instance("y", estimate=60, reads={"in": "x:out"})])


def _where(plan):
    return {a.unit: (a.pool, a.start) for a in plan.assignments}


def test_without_waits_the_plan_is_the_offline_one():
    exp = _two_partitions()
    assert place(exp, waits={}) == place(exp)


def test_a_waiting_queue_is_avoided_and_a_wait_everywhere_delays_the_start():
    exp = _two_partitions()
    offline = _where(place(exp))
    assert {pool for pool, _ in offline.values()} == {"a"}
    assert _where(place(exp, waits={("hpc", "a"): 600.0})) == {"x": ("b", 0.0), "y": ("b", 60.0)}
    both = _where(place(exp, waits={("hpc", "a"): 600.0, ("hpc", "b"): 300.0}))
    assert both["x"] == ("b", 300.0)


def test_the_reasons_and_notes_name_the_wait():
    exp = _two_partitions()
    waits = {("hpc", "a"): 600.0, ("hpc", "b"): 300.0}
    plan = live.explain(place(exp, waits=waits), waits, ["live: a note"])
    assert all(a.reason.startswith("the queue of hpc.b starts nothing for 300 s") for a in plan.assignments)
    assert plan.notes[-1] == "live: a note"


def test_sbatch_test_only_says_when_a_job_would_start():
    said = "sbatch: Job 1231 to start at 2026-12-02T08:30:59 using 1 processors on nodes mlc-n1 in partition cpu"
    assert parse_start(said) == datetime(2026, 12, 2, 8, 30, 59)
    assert parse_start("sbatch: error: invalid partition specified: nope") is None
    assert probe_argv("me@login", "gpu", None, "high") == [
        "ssh", "-o", "BatchMode=yes", "--", "me@login",
        "sbatch --test-only --partition=gpu --nodes=1 --ntasks=1 --cpus-per-task=1 --qos=high --wrap=true"]
