"""PEFT's table and priorities in plain Python (ranks.py) give the floats
the numpy code gave, so PEFT's order and plans stay what they were; and
placing imports no numpy."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
from hypothesis import HealthCheck, given, settings

from compiler.placement.model import build
from compiler.placement.ranks import optimistic_cost_table, row_means

from .strategies import experiments


def _numpy_table(problem) -> np.ndarray:
    """The array code ranks.py used before (every unit through arrays)."""
    k = len(problem.pools)
    sites = np.array(problem.pool_site)
    latency = np.array(problem.routes.latency)[np.ix_(sites, sites)]
    inv = np.array(problem.routes.inv_bandwidth)[np.ix_(sites, sites)]
    runtime = np.full((problem.n, k), np.inf)
    for u, opts in enumerate(problem.options):
        runtime[u, opts] = [problem.runtime[u][p] for p in opts]
    rows = [[0.0] * k for _ in range(problem.n)]
    # Each unit's successors and the bytes it sends them, from the edges
    # into them (the problem keeps no bytes the other way).
    sends: list[list[tuple[int, int, bool]]] = [[] for _ in range(problem.n)]
    for v in range(problem.n):
        for q, size, carries in problem.preds[v]:
            sends[q].append((v, size, carries))
    for u in reversed(range(problem.n)):
        if not sends[u]:
            continue
        index = [v for v, _, _ in sends[u]]
        sizes = np.array([float(size) if carries else 0.0 for _, size, carries in sends[u]])
        carried = np.array([1.0 if carries else 0.0 for _, _, carries in sends[u]])
        via = ((np.array([rows[v] for v in index]) + runtime[index])[:, None, :]
               + carried[:, None, None] * latency + sizes[:, None, None] * inv)
        rows[u] = np.maximum(via.min(axis=2).max(axis=0), 0.0).tolist()
    return np.array(rows, dtype=float).reshape(problem.n, k)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(experiments(max_units=14))
def test_the_table_and_its_means_are_numpys(exp):
    problem = build(exp)
    if not all(problem.options):
        return
    expected = _numpy_table(problem)
    table = optimistic_cost_table(problem)
    assert table == expected.tolist()
    assert row_means(table) == (expected.mean(axis=1).tolist() if problem.n else [])


def test_row_means_sum_pairwise_as_numpy_does():
    rng = random.Random(7)
    for k in [*range(1, 40), 127, 128, 129, 300, 1000]:
        rows = [[rng.choice([rng.random() * 10 ** rng.randint(0, 7), float(rng.randint(0, 9)), 0.1])
                 for _ in range(k)] for _ in range(20)]
        assert row_means(rows) == np.array(rows).mean(axis=1).tolist(), k


def test_placing_imports_no_numpy():
    code = "import sys, compiler.placement; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
