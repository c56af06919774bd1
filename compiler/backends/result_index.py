"""results.json in the output folder: per rule, the site it runs on and the
paths (in that site's work tree) of the results it writes. `mlc status`
reads it to tell a finished step from one whose results are gone, and
`mlc clean` to find the work trees whose cache it tidies."""

from __future__ import annotations

import json

from ..ir import Experiment, Plan, StageInstance
from . import provenance

RESULTS = "results.json"


def emit(experiment: Experiment, plan: Plan, rule_of_unit: dict) -> dict[str, str]:
    rules: dict[str, dict] = {}
    for unit, rule in rule_of_unit.items():
        target = experiment.unit(unit)
        if not isinstance(target, StageInstance):
            continue
        entry = rules.setdefault(rule.name, {"site": plan.where(unit).site, "outputs": []})
        entry["outputs"] += [o.path for o in target.outputs]
    for entry in rules.values():
        entry["outputs"] = sorted(set(entry["outputs"]))
    document = {"experiment": experiment.name, "generated_by": f"mlc from {provenance.where(experiment.span)}",
                "rules": dict(sorted(rules.items()))}
    return {RESULTS: json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"}
