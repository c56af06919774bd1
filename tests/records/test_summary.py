"""The report's numbers and the suggestions a user pastes back."""

from __future__ import annotations

from compiler.records.summary import duration_literal, groups, memory_literal
from tests.records.factory import step

GiB = 1024**3


def test_memory_suggestion_reads_like_the_issue():
    (g,) = groups([step(elapsed_s=3600.0, max_rss_bytes=int(11.2 * GiB), memory_asked_bytes=128 * GiB,
                        time_limit_s=7200.0, cpus_asked=1.0, cpu_time_s=1800.0)])
    assert "memory = 128GiB, max used 11.2 GiB: memory = 16GiB would do" in g.suggestions
    assert g.cpu_efficiency == 0.5


def test_median_spread_and_failed_runs_per_stage_and_pool():
    steps = [step(unit=f"train[lr={i}]", elapsed_s=t) for i, t in enumerate([10.0, 30.0, 20.0])]
    steps += [step(unit="train[lr=9]", state="FAILED", elapsed_s=1.0), step(pool="hpc.cpu", elapsed_s=99.0)]
    by_pool = {g.pool: g for g in groups(steps)}
    gpu = by_pool["hpc.gpu"]
    assert (gpu.runs, gpu.failed, gpu.elapsed_median_s, gpu.elapsed_min_s, gpu.elapsed_max_s) == (3, 1, 20.0, 10.0, 30.0)
    assert by_pool["hpc.cpu"].elapsed_median_s == 99.0


def test_time_suggestions_both_ways():
    (short,) = groups([step(elapsed_s=600.0, time_limit_s=6 * 3600.0)])
    assert "time = 6h, longest run 10m: time = 13m would do" in short.suggestions
    (tight,) = groups([step(elapsed_s=3500.0, time_limit_s=3600.0)])
    assert any(s.startswith("time = 60m, longest run 58m 20s: time = ") and s.endswith("leaves room")
               for s in tight.suggestions)


def test_no_suggestion_when_the_request_fits():
    (g,) = groups([step(elapsed_s=3000.0, estimate_s=3000.0, time_limit_s=3600.0, max_rss_bytes=3 * GiB,
                        memory_asked_bytes=4 * GiB)])
    assert g.suggestions == []


def test_literals_round_up():
    assert memory_literal(11.2 * GiB * 1.25) == "16GiB"
    assert memory_literal(100 * 1024**2) == "128MiB"
    assert duration_literal(90) == "90s"
    assert duration_literal(150) == "3m"
    assert duration_literal(7201) == "3h"
    assert duration_literal(0.2) == "1s"
