"""`mlc run`, `mlc status`, `mlc down`: drive the generated workflow.

The runner never re-implements the workflow: it compiles (only changed files
are rewritten, so finished steps stay finished), runs Snakemake on the output
folder, and turns the step records the generated rules leave in .mlc/ into
progress lines (Snakemake's own output goes to .mlc/run.log). Everything it knows
about a run it reads back from the folder (flags, job records, logs), so
`status` and `down` work from another shell, or after a crash."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .. import ir
from ..backends import FolderError, WriteConflict, compile_to
from ..ir import Experiment, Plan
from ..records import run as records
from ..sites import registry
from . import cache_report, jobs, ownership, results, services
from .display import Lines, choose
from .progress import Progress, StepWatcher, scheduled_rules

EXIT_OK, EXIT_FAILED, EXIT_NOT_COMPILED = 0, 1, 2
POLL_SECONDS = 0.2  # how often the step records are read while Snakemake runs


def _snakemake() -> list[str]:
    exe = shutil.which("snakemake")
    return [exe] if exe else [sys.executable, "-m", "snakemake"]


def run(experiment: Experiment, plan: Plan, outdir: Path, args) -> int:
    base = [*_snakemake(), "--snakefile", "Snakefile"]
    if args.dry_run:
        if not _compiled(experiment, plan, outdir, args):
            return EXIT_FAILED
        return _dry_run(base, outdir, jobs.rules(outdir), as_json=getattr(args, "format", "text") == "json",
                        options=_passed(args))
    display = choose(getattr(args, "format", "text"))
    # The folder is claimed before it is recompiled: a live run's scripts
    # are never rewritten under it.
    try:
        cleared = ownership.take_over(outdir, base)
        ownership.claim(outdir)
    except ownership.FolderBusy as err:
        print(f"mlc: {err}", file=sys.stderr)
        return EXIT_FAILED
    try:
        if cleared:
            display.say(f"{outdir}: {cleared}")
        if not _compiled(experiment, plan, outdir, args):
            return EXIT_FAILED
        died, restart = services.to_start_again(experiment, outdir)
        for name in died:
            display.say(f"service {name} is not running: starting it again")
        if restart:
            base = [*base, "--forcerun", *restart]
        cores = args.cores or os.cpu_count() or 1
        command = [*base, "--cores", str(cores), "--nocolor", "--rerun-incomplete", "--printshellcmds",
                   *_flags(args), *_passed(args)]
        return _run_workflow(experiment, plan, outdir, jobs.rules(outdir), [*base, *_passed(args)], command,
                             display)
    finally:
        ownership.release(outdir)


def _flags(args) -> list[str]:
    """mlc's first-class Snakemake flags."""
    flags = ["--keep-going"] if getattr(args, "keep_going", False) else []
    if getattr(args, "jobs", 0):
        flags += ["--jobs", str(args.jobs)]
    return flags


def _passed(args) -> list[str]:
    """The options after `--` (checked by the CLI): they go to every
    Snakemake call about the run, `--summary` included, so that what mlc
    counts as scheduled is what Snakemake will run (`--forcerun x`)."""
    return list(getattr(args, "snakemake", None) or [])


def _compiled(experiment: Experiment, plan: Plan, outdir: Path, args) -> bool:
    try:
        compile_to(experiment, plan, outdir, force=getattr(args, "force", False))
    except (WriteConflict, FolderError) as err:
        print(f"mlc: {err}", file=sys.stderr)
        return False
    return True


def _run_workflow(experiment: Experiment, plan: Plan, outdir: Path, rules: list[jobs.Rule],
                  base: list[str], command: list[str], display: Lines) -> int:
    lost, unchecked = results.forget_lost(experiment, outdir)  # finished, but results gone: run again
    for line in unchecked:
        print(f"mlc: {line}", file=sys.stderr)
    gone: dict[str, list[str]] = {}
    scheduled = _scheduled(base, outdir, gone)
    if isinstance(scheduled, str):
        print(scheduled, file=sys.stderr)
        return EXIT_FAILED
    for rule, paths in lost.items():
        gone.setdefault(rule, paths)
    already_done = {r.name for r in rules if r.name not in scheduled}
    again = {r.name for r in rules if r.name in scheduled and (jobs.done(outdir, r.name) or r.name in lost)}
    progress = Progress(units={r.name: r.description for r in rules}, total=len(rules),
                        done=len(already_done), done_before=again, gone=gone,
                        cache_note=lambda rule: cache_report.note(outdir, rule))
    watcher = StepWatcher(outdir, [r.name for r in rules])
    watcher.clear()
    records.prepare(outdir, scheduled)
    display.run_start(progress, experiment.name, str(outdir), sorted(scheduled))
    log_path = outdir / ".mlc" / "run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        # Snakemake and its jobs get a process group of their own, so that an
        # interrupt reaches all of them the same way whether it came from the
        # terminal (Ctrl-C) or from `kill` aimed at mlc alone.
        proc = subprocess.Popen(command, cwd=outdir, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_interruptible)
        ownership.claim(outdir, proc.pid)
        previous_term = signal.signal(signal.SIGTERM, _interrupt)
        # Ctrl-C or `kill -INT` stop the run even when mlc was started with
        # SIGINT ignored (`mlc run &` in a script), as Python then leaves it.
        previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            while True:
                ended = proc.poll() is not None  # read before the last poll of the records
                for event in watcher.poll():
                    shown = progress.on_event(event)
                    if shown:
                        display.step(event, progress, shown)
                display.tick(progress)
                if ended:
                    break
                time.sleep(POLL_SECONDS)
            status = proc.returncode
        except KeyboardInterrupt:
            code = _interrupted(proc, outdir, rules, display)
            # Still recorded: the steps so far, and those it stopped as interrupted.
            elapsed = time.monotonic() - started
            try:
                run_id = records.finish(experiment, plan, outdir, scheduled, time.time() - elapsed,
                                        records.INTERRUPTED, say=display.say)
            except KeyboardInterrupt:  # a second Ctrl-C while recording (sacct may take a while)
                run_id = None
                display.warn("interrupted again: this run was not recorded (the next run records its finished steps)")
            display.run_end(progress, code, "interrupted", elapsed, run_id)
            return code
        finally:
            signal.signal(signal.SIGTERM, previous_term)
            signal.signal(signal.SIGINT, previous_int)
    elapsed = time.monotonic() - started
    code = EXIT_OK if status == 0 else EXIT_FAILED
    run_id = records.finish(experiment, plan, outdir, scheduled, time.time() - elapsed, code, say=display.say)
    if status == 0:
        ran = progress.finished_now
        if ran == 0:
            display.say(f"nothing to do: all {progress.total} steps were already done")
        else:
            display.say(f"done: {ran} step{'s' if ran != 1 else ''} in {elapsed:.0f}s{progress.cache_summary()}; "
                        f"outputs are in the sites' work trees (config.yaml in {outdir} says where)")
        for line in _final_outputs(experiment, plan, outdir):
            display.say(line)
    display.run_end(progress, code, "completed" if code == EXIT_OK else "failed", elapsed, run_id)
    if code != EXIT_OK:
        _explain_failure(outdir, progress.failed, log_path)
    return code


def _scheduled(base: list[str], outdir: Path, gone: dict[str, list[str]] | None = None) -> set[str] | str:
    """The rules Snakemake will run (a finished step whose script changed
    since or whose output is gone, and everything after it, included); a
    string says why Snakemake could not tell. `gone` receives, per rule,
    its outputs that are missing."""
    result = subprocess.run([*base, "--summary"], cwd=outdir, capture_output=True, text=True)
    try:
        if result.returncode == 0:
            if gone is not None:
                gone.update(cache_report.missing_outputs(result.stdout))
            return scheduled_rules(result.stdout)
    except ValueError:
        pass
    return f"mlc: snakemake --summary failed in {outdir}:\n{(result.stdout + result.stderr).strip()}"


def _dry_run(base: list[str], outdir: Path, rules: list[jobs.Rule], as_json: bool, options: list[str]) -> int:
    scheduled = _scheduled([*base, *options], outdir)
    if isinstance(scheduled, str):
        print(scheduled, file=sys.stderr)
        return EXIT_FAILED
    pending = [r for r in rules if r.name in scheduled]
    if as_json:
        print(json.dumps({"folder": str(outdir), "done": len(rules) - len(pending), "total": len(rules),
                          "would_run": [{"rule": r.name, "step": r.description} for r in pending]}, indent=2))
        return EXIT_OK
    print(f"{outdir}: {len(rules) - len(pending)} of {len(rules)} steps done; would run:")
    for r in pending:
        print(f"  {r.description}")
    return EXIT_OK


def _final_outputs(experiment: Experiment, plan: Plan, outdir: Path) -> list[str]:
    """Where the results of the last stages are, for those on a local site:
    what a user looks at first."""
    # What some unit reads or waits for, from the units themselves (not
    # the derived edges: a million models on the largest experiments).
    units = [*experiment.instances, *experiment.services]
    consumed = {producer for unit in units for inp in unit.inputs for producer, _ in inp.outputs}
    consumed.update(name for unit in units for name in unit.after)
    sites = jobs.site_config(outdir)
    lines = []
    for inst in experiment.instances:
        if inst.id in consumed:
            continue
        where = plan.where(inst.id)
        folder = registry.of(experiment.site(where.site)).results_folder(outdir, sites.get(where.site, {}))
        if folder is None:
            continue
        for out in inst.outputs:
            lines.append(f"  {inst.id}.{out.name}: {folder / out.path}")
    return ["results:", *lines] if lines else []


def _interrupt(signum, frame) -> None:
    """SIGTERM stops a run the way Ctrl-C does."""
    raise KeyboardInterrupt


def _interruptible() -> None:
    """In Snakemake's process before it starts: SIGINT as the default, so
    that it and the submit scripts (whose trap cancels their job) stop on
    the SIGINT mlc forwards, even if mlc itself was started with it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupted(proc: subprocess.Popen, outdir: Path, rules: list[jobs.Rule], display: Lines) -> int:
    """Ctrl-C: cancel the batch jobs that were submitted and have not
    finished, then interrupt Snakemake and its jobs (the submit scripts also
    cancel their job on SIGINT, which covers a job submitted meanwhile).
    Cancelling first ends the waits at once, so Snakemake exits on its own
    and leaves no lock behind. The messages come after the work: a terminal
    that went away must not stop the cancelling."""
    messages = ["\ninterrupted: stopping the workflow..."]
    for r in rules:
        cancelled = _cancel(outdir, r)
        if cancelled is not None:
            messages.append(f"  {r.description}: {cancelled}")
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:  # Snakemake had already ended
        pass
    messages.append("stopped; `mlc run` again resumes where this run ended")
    display.warn("\n".join(messages))
    return 130


def _explain_failure(outdir: Path, failed: list[str], log_path: Path) -> None:
    descriptions = {r.name: r.description for r in jobs.rules(outdir)}
    if not failed:
        print(f"the workflow failed; Snakemake's log: {log_path}", file=sys.stderr)
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
        print("\n".join(tail), file=sys.stderr)
        return
    for rule in failed:
        record = jobs.job_record(outdir, rule)
        job = f", {record['kind']} job {record['id']}" if record.get("id") else ""
        print(f"FAILED: {descriptions.get(rule, rule)}{job}", file=sys.stderr)
        tail = jobs.log_tail(outdir, rule)
        if tail:
            print(f"  last lines of {outdir / '.mlc' / 'logs' / (rule + '.log')}:", file=sys.stderr)
            for line in tail:
                print(f"  | {line}", file=sys.stderr)
    print("fix the cause and run `mlc run` again: finished steps are not redone", file=sys.stderr)


def status(experiment: Experiment, outdir: Path, args) -> int:
    rules = jobs.rules(outdir)
    if not rules:
        print(f"mlc: {outdir}: not compiled yet: no Snakefile there (run `mlc compile` or `mlc run`, "
              "with the same -o and -p)", file=sys.stderr)
        return EXIT_NOT_COMPILED
    steps = []
    gone = results.gone(experiment, outdir)
    for r in rules:
        record = jobs.job_record(outdir, r.name)
        flagged = jobs.done(outdir, r.name)
        lost = gone.get(r.name, []) if flagged else []  # a finished step whose results are gone
        state = "done" if flagged and not lost else "submitted" if record else "pending"
        job = {"kind": record.get("kind", ""), "id": record["id"]} if record.get("id") else None
        steps.append({"rule": r.name, "step": r.description, "state": state, "job": job,
                      "gone": [str(path) for path in lost]})
    service_states = [_service_state(experiment, outdir, s) for s in experiment.services]
    done_count = sum(step["state"] == "done" for step in steps)
    if getattr(args, "format", "text") == "json":
        print(json.dumps({"folder": str(outdir), "done": done_count, "total": len(steps), "steps": steps,
                          "services": service_states}, indent=2))
        return EXIT_OK
    width = max(len(step["step"]) for step in steps)
    for step in steps:
        job = f"{step['job']['kind']} job {step['job']['id']}" if step["job"] else ""
        gone_note = f"(gone: {', '.join(step['gone'])})" if step["gone"] else ""
        print(f"{step['step']:<{width}}  {step['state']:<9}  {job or gone_note}".rstrip())
    print(f"{done_count} of {len(rules)} steps done")
    for service in service_states:
        print(_service_line(service))
    return EXIT_OK


def _service_state(experiment: Experiment, outdir: Path, service: ir.Service) -> dict:
    site_name = _placed_sites(outdir).get(service.name)
    if site_name is None:
        return {"name": service.name, "site": None, "endpoint": None, "state": "not placed"}
    site = experiment.site(site_name)
    return registry.of(site).service_state(experiment, site, service, jobs.site_config(outdir).get(site_name, {}))


def _service_line(service: dict) -> str:
    if service["state"] == "not placed":
        return f"service {service['name']}: not placed"
    if service["endpoint"] is None:
        return f"service {service['name']}: on {service['site']} ({service['state']})"
    if service["state"] == "not probed":
        return (f"service {service['name']}: {service['endpoint']} on {service['site']} "
                "(ask kubectl for readiness)")
    return f"service {service['name']}: {service['endpoint']} ({service['state']})"


def _placed_sites(outdir: Path) -> dict[str, str]:
    try:
        plan = json.loads((outdir / "plan.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    assignments = plan.get("plan", plan).get("assignments", [])
    return {a["unit"]: a["site"] for a in assignments if isinstance(a, dict) and "unit" in a}


def _cancel(outdir: Path, rule: jobs.Rule) -> str | None:
    """Cancel the rule's recorded batch job unless it finished: what was
    done, or None when there is nothing to cancel."""
    record = jobs.job_record(outdir, rule.name)
    kind = registry.KINDS.get(record.get("kind", ""))
    if kind is None or jobs.done(outdir, rule.name):
        return None
    cancelled = kind.cancel_job(record)
    jobs.stop_watching(outdir, rule.name)
    return cancelled


def down(experiment: Experiment, outdir: Path, args) -> int:
    """Stop the experiment's services and unfinished batch jobs; nothing else."""
    sites = jobs.site_config(outdir)
    placed = _placed_sites(outdir)
    service_rules = services.rules_of(experiment, outdir)
    failures = 0
    for service in experiment.services:
        site_name = placed.get(service.name)
        if site_name is None:
            continue
        site = experiment.site(site_name)
        stopped = registry.of(site).stop_service(outdir, site, service, sites.get(site_name, {}))
        if stopped is not None:
            ok, message = stopped
            failures += not ok
            if ok:  # the next `mlc run` starts it again
                services.forget(outdir, service.name, service_rules.get(service.name, []))
            print(f"service {service.name}: {message}")
    for site in experiment.sites:
        torn = registry.of(site).tear_down(outdir, site, sites.get(site.name, {}))
        if torn is not None:
            ok, message = torn
            failures += not ok
            if ok:  # it removed the site's services too
                for service in experiment.services:
                    if placed.get(service.name) == site.name:
                        services.forget(outdir, service.name, service_rules.get(service.name, []))
            print(f"site {site.name}: {message}")
    for r in jobs.rules(outdir):
        cancelled = _cancel(outdir, r)
        if cancelled is not None:
            print(f"{r.description}: {cancelled}")
    return EXIT_FAILED if failures else EXIT_OK
