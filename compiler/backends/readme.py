"""The human-readable and machine-readable summaries of the output folder:
README.md (the files, the plan, how to run it) and plan.json."""

from __future__ import annotations

import json
import re

from ..ir import Experiment, Plan, Span
from ..sites import registry
from . import provenance, shipping, transfers
from .commands import unit_of
from .templating import generated_header, render

_FLOAT_DIGITS = 6  # plan.json: rounding hides float noise, not information
_SPAN_KEYS = set(Span.model_fields)


def plan_json(experiment: Experiment, plan: Plan) -> str:
    document = _rounded(plan.model_dump(mode="json"))
    for assignment in document["assignments"]:  # only a stage with shapes has one to record
        if assignment.get("shape") is None:
            assignment.pop("shape", None)
    document["generated_by"] = f"mlc from {provenance.where(experiment.span)}"
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _rounded(value):
    """Floats rounded, and spans' files named as generated files name them."""
    if isinstance(value, float):
        return round(value, _FLOAT_DIGITS)
    if isinstance(value, dict):
        if _SPAN_KEYS <= value.keys():
            value = dict(value, file=provenance.source(value["file"]))
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def readme(experiment: Experiment, plan: Plan, files: dict[str, str],
           shipped: dict[str, dict[str, str]] | None = None) -> str:
    """`files` are the other generated files; README.md lists them and itself.
    `shipped`: shipping.site_files, when the caller has it already."""
    table = _plan_table(experiment, plan)
    longest_ticks = max((len(run) for run in re.findall(r"`+", table)), default=0)
    listed = sorted([*files, "README.md"])
    return render(
        "README.md.j2",
        header=generated_header(experiment.span).replace("--", "- -"),
        experiment=experiment,
        table=table,
        fence="`" * max(3, longest_ticks + 1),
        services=_services(experiment, plan),
        transfers=_transfers(experiment, plan),
        shipped=shipping.readme_rows(experiment, plan, shipped),
        files=[(path, describe(path)) for path in listed],
    )


def _plan_table(experiment: Experiment, plan: Plan) -> str:
    try:
        from ..placement import render_table
    except ImportError:  # placement not installed with this back end: a plain table
        rows = [f"{a.unit}  {a.site}/{a.pool}  {a.start:.0f}s-{a.finish:.0f}s" for a in plan.assignments]
        return "\n".join(["unit  site/pool  start-finish", *rows]) + "\n"
    return render_table(experiment, plan)


def _services(experiment: Experiment, plan: Plan) -> list[dict[str, str]]:
    services = []
    for assignment in plan.assignments:
        if assignment.kind != "service":
            continue
        site = experiment.site(assignment.site)
        stop = registry.of(site).service_stop_hint(site, assignment.unit)
        service = unit_of(experiment, assignment.unit)
        lifetime = ("lives for the experiment: the workflow stops it after its last consumer"
                    if service.lifetime == "experiment" else "persistent: keeps running after the workflow ends")
        services.append({"name": service.name, "lifetime": lifetime, "stop": stop})
    return services


def _transfers(experiment: Experiment, plan: Plan) -> list[dict]:
    rows = []
    for transfer in plan.transfers:
        source = transfers.end(experiment, transfer.source_site, transfer.path)
        target = transfers.end(experiment, transfer.target_site, transfer.target_path)
        rows.append({
            "script": transfers.script_path(transfer),
            "what": transfer.what.label,
            "source": transfer.source_site,
            "target": transfer.target_site,
            "tools": transfers.tools(source, target, transfer.route),
            "remote_tools": transfers.remote_tools(source, target, transfer.route),
            "route": transfer.route.kind + (f" by {transfer.route.runs_on}" if transfer.route.runs_on else ""),
            "runs_on": transfer.route.runs_on,
        })
    return rows


_DESCRIPTIONS = [
    (r"README\.md", "this file"),
    (r"plan\.json", "the plan: where each unit runs, when, at what cost, and the transfers"),
    (r"Snakefile", "the workflow that runs everything in order"),
    (r"config\.yaml", "site connection settings read by the Snakefile"),
    (r"profiles/default/config\.yaml", "how much of each site the steps may hold at once (Snakemake's workflow profile)"),
    (r"slurm/submit\.sh", "copies an sbatch script to its cluster, submits it and waits"),
    (r"slurm/poller\.py", "watches all of a site's jobs with one batched squeue (started by submit.sh)"),
    (r"slurm/cache_notes\.sh", "brings back what the result cache did for each task of a finished job, for `mlc run`"),
    (r"(slurm|ssh|k8s)/step_cache\.py", "the result cache, shipped to each site's work root: runs or re-uses a step by "
                                        "its cache key (a copy of mlc's step cache)"),
    (r"slurm/.*\.sbatch", "a Slurm batch script (a job array when the stage is a sweep)"),
    (r"slurm/[^/]*/images\.sh", "pulls the site's container images once, on its login host, into its cache"),
    (r"results\.json", "the results each step writes, by rule (read by `mlc status` and `mlc clean`)"),
    (r"local/step_cache\.py", "runs or re-uses a local step by its cache key (a copy of mlc's step cache)"),
    (r"local/.*\.sh", "runs a stage instance or service on this machine"),
    (r"k8s/.*\.ya?ml", "a Kubernetes manifest"),
    (r"k8s/.*/up\.sh", "prepares the Kubernetes site: namespace, work volume (and data mover)"),
    (r"k8s/.*/down\.sh", "deletes what the experiment deployed on the Kubernetes site"),
    (r"k8s/.*/check\.sh", "tells `mlc run` which results of finished steps are still in the run's work directory "
                         "(one short Job)"),
    (r"k8s/.*/fetch-ship-_step_cache\.sh", "copies the result cache from the staging bucket into the run's work volume "
                                          "(a Job in the cluster)"),
    (r"k8s/.*\.sh", "applies a Kubernetes workload and waits for it"),
    (r"ssh/driver\.py", "runs the ssh sites' steps and transfer ends over ssh (python3 ssh/driver.py)"),
    (r"ssh/transport\.py", "the ssh and rsync command lines the driver runs (a copy of mlc's transport)"),
    (r"ssh/.*\.sh", "a stage instance or service that runs on an ssh host"),
    (r"transfers/.*\.sh", "moves data between two sites"),
    (r"ship/[^/]*/_step_cache\.sh", "copies the result cache into a site's work root (.mlc/step_cache.py)"),
    (r"ship/[^/]*\.sh", "links the project paths a local site's units read into its work tree"),
    (r"ship/.*\.sh", "copies one project path (code, an input file) into a site's work tree"),
    (r"publish/.*\.sh", "copies an output to object storage once written, from the site that holds it"),
    (r"gantt\.svg", "the schedule as a Gantt chart"),
    (r"graph\.svg", "the stage graph"),
    (r"graph\.mmd", "the stage graph as a Mermaid diagram"),
]


# Compiled once: README.md describes every file (five thousand on a
# thousand-stage Kubernetes site), each against up to twenty patterns.
_COMPILED = [(re.compile(pattern), description) for pattern, description in _DESCRIPTIONS]


def describe(path: str) -> str:
    for pattern, description in _COMPILED:
        if pattern.fullmatch(path):
            return description
    return "generated by mlc"
