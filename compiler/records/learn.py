"""Estimates learned from the records: the median measured run time per
(stage instance or stage, pool) replaces the stated estimate on that pool.

A stage instance with runs of its own uses those; a sweep member without
uses the runs of its stage's other members on the same pool (the members
of a sweep do the same work on other values). Pools without runs keep the
stated estimate. Only completed steps count."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from ..fit import human_duration
from ..ir import Estimate, Experiment, Plan
from . import store


@dataclass(frozen=True)
class Learned:
    seconds: float
    runs: int
    pool: str
    of_stage: bool  # from the stage's other members, not this instance's own runs

    def why(self) -> str:
        whose = " of the stage" if self.of_stage else ""
        plural = "s" if self.runs != 1 else ""
        return f"{human_duration(self.seconds)}: median of {self.runs} run{plural}{whose} on {self.pool}"


def learn(experiment: Experiment, folder: Path) -> tuple[Experiment, dict[str, dict[str, Learned]]]:
    """The experiment with learned estimates, and per instance and pool where each came from."""
    _, steps = store.read(folder)
    by_unit: dict[tuple[str, str], list[float]] = {}
    by_stage: dict[tuple[str, str], list[float]] = {}
    for step in steps:
        if step.state == "COMPLETED" and step.elapsed_s is not None:
            by_unit.setdefault((step.unit, step.pool), []).append(step.elapsed_s)
            by_stage.setdefault((step.stage, step.pool), []).append(step.elapsed_s)
    if not by_stage:
        return experiment, {}
    pools = sorted({pool for _, pool in by_stage})
    learned: dict[str, dict[str, Learned]] = {}
    instances = []
    for inst in experiment.instances:
        found = {}
        for pool in pools:
            own = by_unit.get((inst.id, pool))
            times, of_stage = (own, False) if own else (by_stage.get((inst.stage, pool)), True)
            if times:
                found[pool] = Learned(statistics.median(times), len(times), pool, of_stage)
        if found:
            learned[inst.id] = found
            estimate = Estimate(default=inst.estimate.default,
                                by_key={**inst.estimate.by_key, **{p: v.seconds for p, v in found.items()}},
                                stated=True)
            inst = inst.model_copy(update={"estimate": estimate})
        instances.append(inst)
    return experiment.model_copy(update={"instances": instances}), learned


def explain(plan: Plan, learned: dict[str, dict[str, Learned]]) -> Plan:
    """Each assignment whose estimate came from the records says so first in its reason."""
    if not learned:
        return plan
    rows = []
    for a in plan.assignments:
        source = learned.get(a.unit, {}).get(f"{a.site}.{a.pool}")
        if source is not None:
            a = a.model_copy(update={"reason": f"{source.why()}; {a.reason}" if a.reason else source.why()})
        rows.append(a)
    return plan.model_copy(update={"assignments": rows})
