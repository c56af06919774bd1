"""After a run: one `Step` per step that ran, from what each site measured.

Local steps: the JSON the step wrapper wrote to .mlc/usage/<rule>.json
(templates/_measure.sh.j2). Slurm steps: one batched `sacct` call per site
(through its login host when it has one), read by
compiler/sites/slurm/accounting.py; sacct learns of a job's end a moment
after the job ends, so the call is repeated until every job has an end or
SACCT_WAIT_SECONDS pass. Kinds whose scripts save what the site reported
(Kubernetes: the pods' status) give it through SiteKind.step_usage."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from pathlib import Path

from ..backends.naming import snake_rule
from ..backends.snakefile import STEP_RECORDS
from ..ir import Experiment, Plan, StageInstance
from ..runner import cache_report, jobs, step_cache
from ..sites import registry
from ..sites.slurm import accounting
from . import remote_files
from .store import Step

USAGE_DIR = Path(".mlc") / "usage"
SACCT_WAIT_SECONDS = float(os.environ.get("MLC_SACCT_WAIT", "60"))


def steps(experiment: Experiment, plan: Plan, outdir: Path, run_id: str, ran: set[str],
          interrupted: bool = False) -> list[Step]:
    """A record per stage instance whose rule is in `ran` (services have no
    end to measure). `interrupted`: the run was stopped (Ctrl-C), so a step
    that started and did not finish is INTERRUPTED rather than FAILED."""
    wanted = [(a, experiment.instance(a.unit), _rule(experiment.instance(a.unit), ran)) for a in plan.assignments
              if a.kind == "instance"]
    # A rule the run scheduled but never started (an earlier step failed) has no record.
    wanted = [(a, inst, rule) for a, inst, rule in wanted
              if rule is not None and (jobs.done(outdir, rule) or (outdir / STEP_RECORDS / rule).exists())]
    slurm = _slurm_usage(outdir, sorted({rule for _, _, rule in wanted}))
    sites = jobs.site_config(outdir)
    remote = _remote_files(experiment, outdir, sites, [(a, inst) for a, inst, _ in wanted])
    result = []
    for assignment, inst, rule in wanted:
        site = experiment.site(assignment.site)
        record = jobs.job_record(outdir, rule)
        base = _planned(run_id, rule, inst, assignment, site.kind, experiment)
        folder = registry.of(site).results_folder(outdir, sites.get(site.name, {}))
        found = remote.get(site.name, {})
        base.update(inputs=_files(folder, _input_paths(experiment, inst), found),
                    outputs=_files(folder, [(o.name, o.path) for o in inst.outputs], found))
        base["state"] = state = _state(outdir, rule, interrupted)
        job = record.get("id", "")
        whole_sweep = rule != snake_rule(inst.id)  # one task of a job array, one index of an Indexed Job
        if job and whole_sweep:
            job = f"{job}_{inst.index}"
        base["job_id"] = job or None
        usage = slurm.get(job) if _accounted(record) else None
        reported = None if usage is not None else registry.of(site).step_usage(
            outdir, rule, inst.index if whole_sweep else None)
        if usage is not None:
            base.update(_from_sacct(usage))
        elif reported is not None:
            base.update({k: v for k, v in reported.items() if k != "job_id" or not base["job_id"]})
        else:
            base.update(_from_wrapper(outdir, rule, base["state"]))
        if state in (REUSED, INTERRUPTED):  # mlc's word over the site's (sacct: COMPLETED, CANCELLED)
            base["state"] = state
        result.append(Step(**base))
    return result


# A step's states besides Slurm's words: its result came from the result
# cache (its command did not run), or the run was stopped while it ran.
REUSED, INTERRUPTED = "REUSED", "INTERRUPTED"


def _state(outdir: Path, rule: str, interrupted: bool) -> str:
    if jobs.done(outdir, rule):
        note = cache_report.note(outdir, rule)
        return REUSED if note is not None and note.reused else "COMPLETED"
    return INTERRUPTED if interrupted else "FAILED"


def unwatched(outdir: Path, steps: list[Step]) -> set[str]:
    """Finished rules no run recorded: run by Snakemake without `mlc run`, or
    by an `mlc run` that was stopped. A rule counts when its job id, or the
    start its wrapper measured, is not among the recorded steps'."""
    jobs_seen = {s.job_id.split("_")[0] for s in steps if s.job_id}
    starts_seen = {(s.rule, s.start) for s in steps if s.start is not None}
    found = set()
    for rule in jobs.rules(outdir):
        if not jobs.done(outdir, rule.name):
            continue
        job = jobs.job_record(outdir, rule.name).get("id")
        if job:
            if job not in jobs_seen:
                found.add(rule.name)
            continue
        start = _measured_start(outdir, rule.name)
        if start is not None and (rule.name, start) not in starts_seen:
            found.add(rule.name)
    return found


def _measured_start(outdir: Path, rule: str) -> float | None:
    """When the rule's step started, as its wrapper measured it or as its
    site reported it (SiteKind.step_usage: a Kubernetes Job's pods; for a
    whole sweep, its earliest member's start, which that member's record has)."""
    try:
        return json.loads((outdir / USAGE_DIR / f"{rule}.json").read_text(encoding="utf-8")).get("start")
    except (OSError, ValueError, AttributeError):
        pass
    for kind in registry.KINDS.values():
        reported = kind.step_usage(outdir, rule, None)
        if reported is not None:
            return reported.get("start")
    return None


def _rule(inst: StageInstance, ran: set[str]) -> str | None:
    """The rule that ran the instance: its own, or its stage's (a Slurm job
    array runs a whole sweep as one rule); None when it did not run now."""
    for rule in (snake_rule(inst.id), snake_rule(inst.stage)):
        if rule in ran:
            return rule
    return None


def _planned(run_id: str, rule: str, inst: StageInstance, assignment, kind: str, experiment: Experiment) -> dict:
    res = inst.resources
    return {
        "run_id": run_id, "rule": rule, "unit": inst.id, "stage": inst.stage, "site": assignment.site,
        "pool": f"{assignment.site}.{assignment.pool}", "kind": kind, "job_id": None, "nodes": "[]",
        "exit_status": None, "submit": None, "start": None, "end": None, "queue_wait_s": None,
        "elapsed_s": None, "cpu_time_s": None, "max_rss_bytes": None,
        "cpus_asked": float(res.cpus), "memory_asked_bytes": res.memory,
        "gpus_asked": res.gpus.count if res.gpus else 0, "time_limit_s": res.time,
        "estimate_s": assignment.finish - assignment.start, "image": inst.image,
        "params": json.dumps({**experiment.params, **inst.sweep}, sort_keys=True),
    }


def _from_wrapper(outdir: Path, rule: str, state: str) -> dict:
    try:
        usage = json.loads((outdir / USAGE_DIR / f"{rule}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    fields = {k: usage.get(k) for k in ("start", "end", "elapsed_s", "cpu_time_s", "max_rss_bytes")}
    fields["exit_status"] = usage.get("exit_status")
    fields["nodes"] = json.dumps([usage["host"]] if usage.get("host") else [])
    if usage.get("exit_status") not in (0, None) and state != INTERRUPTED:
        fields["state"] = "FAILED"
    return fields


def _from_sacct(usage: accounting.JobUsage) -> dict:
    job = usage.job

    def seconds(moment):
        return moment.timestamp() if moment is not None else None

    submit, start, end = seconds(job.submit), seconds(job.start), seconds(job.end)
    return {
        "state": job.state, "exit_status": job.exit_code, "submit": submit, "start": start, "end": end,
        "queue_wait_s": start - submit if start is not None and submit is not None else None,
        "elapsed_s": float(job.elapsed_s), "cpu_time_s": job.cpu_time_s,
        "max_rss_bytes": usage.max_rss_bytes, "nodes": json.dumps(list(job.nodes)),
    }


def _accounted(record: dict) -> bool:
    """Whether the job record's kind reads usage from the scheduler's accounting."""
    kind = registry.KINDS.get(str(record.get("kind", "")))
    return kind is not None and kind.job_accounting


def _slurm_usage(outdir: Path, rules: list[str]) -> dict[str, accounting.JobUsage]:
    """Job id -> usage for every Slurm job the rules submitted: one sacct per login host."""
    by_login: dict[str, list[str]] = {}
    for rule in rules:
        record = jobs.job_record(outdir, rule)
        if _accounted(record) and record.get("id", "").isdigit():
            by_login.setdefault(record.get("login", ""), []).append(record["id"])
    found: dict[str, accounting.JobUsage] = {}
    for login, ids in by_login.items():
        found.update(sacct(ids, login))
    return found


def sacct(ids: list[str], login: str = "") -> dict[str, accounting.JobUsage]:
    command = ["sacct", "--parsable2", f"--format={accounting.SACCT_FORMAT}", "--jobs", ",".join(ids)]
    if login:
        command = ["ssh", "-o", "BatchMode=yes", "--", login, shlex.join(command)]
    deadline = time.monotonic() + SACCT_WAIT_SECONDS
    usage: dict[str, accounting.JobUsage] = {}
    while True:
        try:
            result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
            if result.returncode == 0:
                usage = {u.job.job_id: u for u in accounting.jobs(accounting.parse_sacct(result.stdout))}
        except (OSError, subprocess.TimeoutExpired, accounting.AccountingError):
            pass
        # An array's tasks are keyed `ID_INDEX`; each job or task needs an end.
        mine = [u for key, u in usage.items() if key.split("_")[0] in ids]
        complete = all(any(key.split("_")[0] == i for key in usage) for i in ids) and all(
            u.job.end is not None for u in mine)
        if complete or time.monotonic() > deadline:
            return usage
        time.sleep(1.0)


def _input_paths(experiment: Experiment, inst: StageInstance) -> list[tuple[str, str]]:
    paths = []
    for port in inst.inputs:
        if port.source is not None:
            paths.append((port.name, port.source.path))
        for producer, output in port.outputs:
            out = next((o for o in experiment.instance(producer).outputs if o.name == output), None)
            if out is not None:
                paths.append((port.name, out.path))
    return paths


# Files up to this size get a sha256 in the records; larger ones (and
# directories) only their size, so that recording never reads a large output.
CHECKSUM_LIMIT = int(os.environ.get("MLC_CHECKSUM_LIMIT", str(64 * 1024**2)))


def _remote_files(experiment: Experiment, outdir: Path, sites: dict, placed: list) -> dict[str, dict]:
    """Per site whose work tree the run cannot see: path -> (size, sha256)
    of the steps' files there, one query per site (remote_files.py)."""
    wanted: dict[str, set[str]] = {}
    for assignment, inst in placed:
        site = experiment.site(assignment.site)
        if registry.of(site).results_folder(outdir, sites.get(site.name, {})) is None:
            paths = [p for _, p in _input_paths(experiment, inst)] + [o.path for o in inst.outputs]
            wanted.setdefault(site.name, set()).update(paths)
    return {name: remote_files.sizes(experiment.site(name).kind, sites.get(name, {}), experiment.name,
                                     sorted(paths), CHECKSUM_LIMIT)
            for name, paths in wanted.items()}


def _files(folder: Path | None, named: list[tuple[str, str]], remote: dict[str, tuple[int, str | None]]) -> str:
    """Name, path, size and (for a file up to CHECKSUM_LIMIT) sha256 of each
    file: read here where the run sees the site's work tree, else as the
    site's query reported them (`remote`); None where neither can tell."""
    rows = []
    for name, path in named:
        size, digest = remote.get(path, (None, None))
        if folder is not None:
            try:
                size = _size(folder / path)
                if (folder / path).is_file() and size <= CHECKSUM_LIMIT:
                    digest = step_cache.file_digest(folder / path)
            except OSError:
                size = digest = None
        rows.append({"name": name, "path": path, "size": size, "sha256": digest})
    return json.dumps(rows)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
