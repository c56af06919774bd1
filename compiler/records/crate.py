"""A Workflow Run RO-Crate (Provenance Run Crate profile, 0.5) per run,
written with the `rocrate` package (the optional `records` extra) into
<folder>/.mlc/runs/<run id>/.

The workflow is the compiled Snakefile (with the scripts, plan and config
beside it), based on the .mlx sources, all copied into the crate. The
experiment's params are its formal parameters. The run is a CreateAction
of the workflow, organised by mlc (OrganizeAction); each step is a
HowToStep of the workflow whose execution is a CreateAction (start, end,
status, site, job id, image, inputs, outputs, resource usage), tied to its
step by a ControlAction."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from rocrate.model import ContextEntity
from rocrate.rocrate import ROCrate

from .. import __version__
from ..backends.naming import snake_rule
from ..ir import Experiment
from .store import Run, Step

RUNS_DIR = Path(".mlc") / "runs"
PROFILES = {
    "process": "https://w3id.org/ro/wfrun/process/0.5",
    "workflow": "https://w3id.org/ro/wfrun/workflow/0.5",
    "provenance": "https://w3id.org/ro/wfrun/provenance/0.5",
    "wfcrate": "https://w3id.org/workflowhub/workflow-ro-crate/1.0",
}
# Records, logs, Snakemake's state and the local work tree are not the workflow.
_COMPILED_SKIP = {".mlc", ".snakemake", "work"}


def write(experiment: Experiment, outdir: Path, run: Run, steps: list[Step]) -> Path:
    target = outdir / RUNS_DIR / run.run_id
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    crate = ROCrate()
    crate.name = f"{experiment.name}: run {run.run_id}"
    crate.description = experiment.description or f"A run of the mlc experiment {experiment.name}"
    crate.license = "https://spdx.org/licenses/CC-BY-4.0"
    for profile in PROFILES.values():
        crate.add(ContextEntity(crate, profile, properties={
            "@type": "CreativeWork", "name": profile.rsplit("/", 2)[-2], "version": profile.rsplit("/", 1)[-1]}))
    crate.root_dataset["conformsTo"] = [{"@id": p} for p in PROFILES.values()]

    sources = [crate.add_file(src, f"sources/{Path(src).name}", properties={
        "@type": ["File", "SoftwareSourceCode"], "name": Path(src).name,
        "encodingFormat": "text/plain", "description": "mlc experiment source (.mlx)"})
        for src in dict.fromkeys(experiment.sources) if Path(src).is_file()]
    for path in sorted(outdir.rglob("*")):
        rel = path.relative_to(outdir)
        if path.is_file() and rel.parts[0] not in _COMPILED_SKIP and rel.name != "Snakefile":
            crate.add_file(path, f"workflow/{rel.as_posix()}")
    workflow = crate.add_workflow(outdir / "Snakefile", "workflow/Snakefile", main=True, lang="snakemake",
                                  properties={"name": f"{experiment.name} (compiled by mlc)",
                                              "isBasedOn": [{"@id": s.id} for s in sources]})

    params = []
    for name, value in sorted(experiment.params.items()):
        formal = crate.add_formal_parameter(name, _param_type(value), identifier=f"#param-{name}")
        params.append(crate.add(ContextEntity(crate, f"#param-value-{name}", properties={
            "@type": "PropertyValue", "name": name, "value": json.dumps(value) if isinstance(value, list) else value,
            "exampleOfWork": {"@id": formal.id}})))
        workflow.append_to("input", formal)

    mlc = crate.add(ContextEntity(crate, "#mlc", properties={
        "@type": "SoftwareApplication", "name": "mlc", "softwareVersion": __version__}))
    run_action = crate.add_action(workflow, identifier=f"#run-{run.run_id}", object=params, properties={
        "name": f"Run {run.run_id} of {experiment.name}", "startTime": _iso(run.started),
        "endTime": _iso(run.ended), "actionStatus": _status(run.status == 0),
        **({} if run.status == 0 else {"error": f"the run {run.outcome} (exit status {run.status})"})})
    controls = [_step(crate, workflow, step) for step in steps]
    crate.add_action(mlc, identifier=f"#organize-{run.run_id}", properties={
        "@type": "OrganizeAction", "name": f"mlc ran {experiment.name}",
        "object": [{"@id": c.id} for c in controls], "result": {"@id": run_action.id},
        "startTime": _iso(run.started), "endTime": _iso(run.ended)})
    crate.write(staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target / "ro-crate-metadata.json"


def _step(crate: ROCrate, workflow, step: Step):
    key = snake_rule(step.unit)  # not step.rule: a job array's tasks share their rule
    tool = crate.add(ContextEntity(crate, f"#tool-{key}", properties={
        "@type": "SoftwareApplication", "name": f"{step.unit} on {step.pool}"}))
    howto = crate.add(ContextEntity(crate, f"#step-{key}", properties={
        "@type": "HowToStep", "name": step.unit, "workExample": {"@id": tool.id}}))
    workflow.append_to("step", howto)
    files = {}
    for direction in ("inputs", "outputs"):
        files[direction] = [crate.add(ContextEntity(crate, f"#{direction}-{key}-{f['name']}-{i}", properties={
            "@type": "File", "name": f["path"], **({"contentSize": str(f["size"])} if f["size"] is not None else {}),
            **({"sha256": f["sha256"]} if f.get("sha256") else {})}))
            for i, f in enumerate(json.loads(step.inputs if direction == "inputs" else step.outputs))]
    done = step.state in ("COMPLETED", "REUSED")
    props = {"name": f"{step.unit} on {step.pool}", "actionStatus": _status(done),
             "location": step.site, "resourceUsage": _usage(crate, step, key)}
    if step.start is not None:
        props["startTime"] = _iso(step.start)
    if step.end is not None:
        props["endTime"] = _iso(step.end)
    if step.job_id:
        props["identifier"] = f"{step.kind} job {step.job_id}"
    if step.image_id or step.image:  # by digest where the site said which image ran
        props["containerImage"] = step.image_id or step.image
    if step.state == "REUSED":
        props["description"] = "result re-used from the result cache: the command did not run"
    elif step.state == "INTERRUPTED":
        props["error"] = "interrupted: the run was stopped while the step ran"
    elif not done:
        props["error"] = f"{step.state} (exit status {step.exit_status})"
    action = crate.add_action(tool, identifier=f"#action-{key}", object=files["inputs"],
                              result=files["outputs"], properties=props)
    return crate.add(ContextEntity(crate, f"#control-{key}", properties={
        "@type": "ControlAction", "name": f"orchestrate {step.unit}", "instrument": {"@id": howto.id},
        "object": {"@id": action.id}}))


def _usage(crate: ROCrate, step: Step, key: str) -> list[dict]:
    measured = [("elapsed", step.elapsed_s, "s"), ("cpuTime", step.cpu_time_s, "s"),
                ("maxRSS", step.max_rss_bytes, "bytes"), ("queueWait", step.queue_wait_s, "s"),
                ("cpusRequested", step.cpus_asked, None), ("memoryRequested", step.memory_asked_bytes, "bytes"),
                ("gpusRequested", step.gpus_asked, None), ("timeLimit", step.time_limit_s, "s"),
                ("restarts", step.restarts, None)]
    refs = []
    for name, value, unit in measured:
        if value is None:
            continue
        entity = crate.add(ContextEntity(crate, f"#usage-{key}-{name}", properties={
            "@type": "PropertyValue", "name": name, "value": str(value), **({"unitText": unit} if unit else {})}))
        refs.append({"@id": entity.id})
    return refs


def _param_type(value) -> str:
    return {bool: "Boolean", int: "Integer", float: "Float", str: "Text"}.get(type(value), "Text")


def _status(ok: bool) -> str:
    return "http://schema.org/CompletedActionStatus" if ok else "http://schema.org/FailedActionStatus"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
