"""`mlc plan --live`: ask each site's scheduler how long its queues would
hold a job now (`SiteKind.queue_waits`; Slurm: `sbatch --test-only`), so
that the plan starts nothing on a pool before its queue would, and say so
in the plan's reasons. Without --live nothing here runs: the plan assumes
empty queues and stays offline."""

from __future__ import annotations

from ..ir import Experiment, Plan
from ..sites import registry

Waits = dict[tuple[str, str], float]


def queue_waits(experiment: Experiment) -> tuple[Waits, list[str]]:
    """(seconds per (site, pool) whose wait is known, a note per pool asked)."""
    waits: Waits = {}
    notes = []
    for site in experiment.sites:
        for pool, (seconds, said) in sorted(registry.of(site).queue_waits(site).items()):
            if seconds is None:
                notes.append(f"live: the queue of {site.name}.{pool} could not be asked ({said}); "
                             "planned as if empty")
                continue
            waits[(site.name, pool)] = seconds
            notes.append(f"live: a job on {site.name}.{pool} would start in {seconds:.0f} s "
                         "(the scheduler's estimate now)")
    return waits, notes


def explain(plan: Plan, waits: Waits, notes: list[str]) -> Plan:
    """Each unit on a pool with a queue wait says so first in its reason."""
    rows = []
    for a in plan.assignments:
        wait = waits.get((a.site, a.pool), 0.0)
        if wait > 0:
            why = f"the queue of {a.site}.{a.pool} starts nothing for {wait:.0f} s"
            a = a.model_copy(update={"reason": f"{why}; {a.reason}" if a.reason else why})
        rows.append(a)
    return plan.model_copy(update={"assignments": rows, "notes": [*plan.notes, *notes]})
