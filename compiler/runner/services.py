"""The state of the services of a compiled experiment, for `mlc run` and
`mlc down`: which workflow rules start and stop each one (their done flags
say whether the workflow thinks it runs), and what its site says.

`mlc down` removes the flags of what it stopped (`mlc status` then shows
those steps pending) and notes the service in .mlc/restart/. `mlc run`
starts again every service noted there, and every one that should be
running (started, not yet stopped by the workflow) but no longer answers:
it runs their start rules with `--forcerun`. Consumers wait on a start flag
regardless of its age (Snakefile `ancient`) as long as it exists, so the
flag is put back first and finished consumers are not redone."""

from __future__ import annotations

import json
from pathlib import Path

from ..backends.service_stops import service_rules
from ..backends.snakefile import StepBuilder
from ..ir import Experiment, Plan
from ..sites import registry
from . import jobs

NOT_RUNNING = ("not answering", "not running")  # service_state states that mean the process is gone


def compiled_plan(outdir: Path) -> Plan | None:
    """The plan the folder was compiled with (plan.json), if it reads."""
    try:
        document = json.loads((outdir / "plan.json").read_text(encoding="utf-8"))
        document.pop("generated_by", None)
        return Plan.model_validate(document)
    except (OSError, ValueError):
        return None


def rules_of(experiment: Experiment, outdir: Path) -> dict[str, list[str]]:
    """Service name -> [start rule, stop rule (when its lifetime is the experiment)]."""
    plan = compiled_plan(outdir)
    if plan is None:
        return {}
    try:
        return service_rules(StepBuilder(experiment, plan))
    except Exception:  # noqa: BLE001 - a folder compiled from other sources: nothing to reset
        return {}


RESTART = Path(".mlc") / "restart"  # <service>: stopped by `mlc down`, to start on the next run


def forget(outdir: Path, service: str, rules: list[str]) -> None:
    """`mlc down` stopped `service`: its rules' flags go, and the next run starts it."""
    for rule in rules:
        (outdir / ".mlc" / "done" / rule).unlink(missing_ok=True)
    (outdir / RESTART).mkdir(parents=True, exist_ok=True)
    (outdir / RESTART / service).write_text("stopped by mlc down\n", encoding="utf-8")


def to_start_again(experiment: Experiment, outdir: Path) -> tuple[list[str], list[str]]:
    """(the services that died, the start rules to force): services `mlc down`
    stopped, and those that should be running but whose site says they are
    not. Their start flags are put back so consumers are not redone."""
    config = jobs.site_config(outdir)
    plan = compiled_plan(outdir)
    if plan is None:
        return [], []
    died, rules = [], []
    for service, names in rules_of(experiment, outdir).items():
        start, stop = names[0], names[1] if len(names) > 1 else None
        marker = outdir / RESTART / service
        if marker.exists():
            marker.unlink()
        elif not jobs.done(outdir, start) or (stop is not None and jobs.done(outdir, stop)):
            continue  # never started, or stopped by the workflow as planned
        else:
            site = experiment.site(plan.where(service).site)
            state = registry.of(site).service_state(experiment, site, experiment.unit(service),
                                                    config.get(site.name, {}))
            if state.get("state") not in NOT_RUNNING:
                continue
            died.append(service)
        flag = outdir / ".mlc" / "done" / start
        flag.parent.mkdir(parents=True, exist_ok=True)
        flag.touch()
        rules.append(start)
    return died, rules
