#!/usr/bin/env python3
"""Benchmarks of mlc against its peers (miniwdl, Snakemake) on WfCommons
workflows, and issue 19's targets, written up in docs/benchmarks.md.

    python bench/run.py                     # everything, 3 runs per number
    python bench/run.py --quick             # issue 19's targets, 1 run per number
    python bench/run.py --sizes 1000 --recipes montage --phases check
    python bench/run.py --report-only       # rewrite the document from the last results
    python bench/run.py --phases sweep --merge   # one sweep on every kind of site

Phases: `check` (mlc check / miniwdl check / snakemake -n), `compile` (mlc
compile / snakemake -n on the Snakefile mlc wrote), `sweep` (mlc compile and
code generation alone of one N-member sweep pinned to each kind of site:
local, Slurm, Kubernetes), `profile` (cProfile of mlc check and mlc compile),
`startup` (mlc --version, check and compile of the quickstart next to a bare
python: bench/startup.py), `lsp` (the language server's diagnostics after a
change, over a pipe: bench/lsp_latency.py), `frontend` (parsing against
lark's own floor and memory per file reference: bench/frontend.py),
`fan-in` (wide sweeps gathered by one stage: bench/fan_in.py), `placement`
(CPU of place() as workflows grow: bench/placement/timing.py),
`placement-quality` (against HEFT and the exact MILP: bench/placement/run.py),
`plan-check` (what placing adds to checking: bench/placement/plan_vs_check.py).

--quick runs every phase but `sweep` once per number, with the check on
5,000 and 20,000 tasks without the peers and the placement's quality at 200
tasks (options given on the command line win); it keeps the results it does
not measure again (--merge). Every run is a fresh process; a
number is the median of --repeat runs; peers are skipped above
--peer-max-size and killed after --timeout seconds (recorded as a timeout).
mlc is always this checkout's compiler (PYTHONPATH), not an installed copy."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import shutil
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# This checkout's compiler for what runs in this process too (the importer
# that writes the workloads), not an installed copy; bench/ stays first.
if str(REPO) not in sys.path:
    sys.path.insert(1, str(REPO))

import lsp_latency  # noqa: E402
import startup  # noqa: E402
import wfformat_gen  # noqa: E402
from suite import cases, issue19, plots, probes, profiling, report, results, sites, sweep_cases, sweeps  # noqa: E402
from suite.measure import run  # noqa: E402
from suite.results import Record, Results  # noqa: E402
from suite.workloads import Workload, prepare, separate  # noqa: E402
RECIPES = sorted(wfformat_gen.RECIPES)
PHASES = ["check", "compile", "sweep", "profile", "startup", "lsp", "frontend", "fan-in", "placement",
          "placement-quality", "plan-check"]
CAPACITIES = ["scarce", "medium", "plentiful"]  # bench/placement/workflows.py's CAPACITY
# The defaults that differ between a full run and --quick (issue 19's
# targets only: the peers' 5,000-task runs alone take a quarter of an hour).
DEFAULTS = {"phases": PHASES, "sizes": [1000, 5000, 20000], "peer_recipes": ["1000genome", "epigenomics", "montage"],
            "compile_recipes": ["epigenomics", "montage"], "quality_sizes": [200, 1000, 5000]}
QUICK = {"phases": [p for p in PHASES if p != "sweep"], "sizes": [5000, 20000], "peer_recipes": [],
         "compile_recipes": DEFAULTS["compile_recipes"], "quality_sizes": [200]}  # all the compile rows: fresh


def _sizes(text: str) -> list[int]:
    return sorted({int(part) for part in text.split(",") if part})


def _names(text: str, allowed: list[str]) -> list[str]:
    names = [part for part in text.split(",") if part]
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown: {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return names


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes,
                        help="check: tasks per workflow (default 1000,5000,20000; --quick: 5000,20000)")
    parser.add_argument("--compile-sizes", type=_sizes, default=[1000, 5000],
                        help="compile: tasks per workflow (default 1000,5000)")
    parser.add_argument("--recipes", type=lambda t: _names(t, RECIPES), default=RECIPES,
                        help="WfCommons recipes measured with mlc (default: all)")
    parser.add_argument("--peer-recipes", type=lambda t: _names(t, RECIPES),
                        help="the recipes also measured with the peers, they are slow "
                             "(default 1000genome,epigenomics,montage; --quick: none)")
    parser.add_argument("--peer-max-size", type=int, default=5000,
                        help="peers are not run above this many tasks (default 5000)")
    parser.add_argument("--compile-recipes", type=lambda t: _names(t, RECIPES),
                        help="the recipes `mlc compile` is measured on (default epigenomics,montage)")
    parser.add_argument("--compile-catalogues", type=lambda t: _names(t, sorted(sites.CLUSTERS)),
                        default=sorted(sites.CLUSTERS),
                        help="compile: the catalogues' cluster kinds, each with a workstation (default: all)")
    parser.add_argument("--sweep-sizes", type=_sizes, default=[400, 1600, 6400],
                        help="sweep: members of the sweep (default 400,1600,6400)")
    parser.add_argument("--sweep-kinds", type=lambda t: _names(t, sorted(sweeps.KINDS)),
                        default=sorted(sweeps.KINDS), help="sweep: the kinds of site (default: all)")
    parser.add_argument("--phases", type=lambda t: _names(t, PHASES),
                        help="the phases to run (default: all; --quick: all but sweep)")
    parser.add_argument("--lsp-stages", type=_sizes, default=[1000, 5000],
                        help="lsp: stages of the edited file (default 1000,5000)")
    parser.add_argument("--startup-repeat", type=int, default=10,
                        help="startup: runs per command (default 10; they are short)")
    parser.add_argument("--frontend-recipes", type=lambda t: _names(t, RECIPES), default=["montage", "soykb"],
                        help="frontend: the workflows parsed against lark's floor (default montage,soykb)")
    parser.add_argument("--frontend-size", type=int, default=5000,
                        help="frontend: their tasks (default 5000)")
    parser.add_argument("--fan-in-members", type=_sizes, default=[4000, 16000],
                        help="fan-in: members of bench/fan_in.py's sweeps (default 4000,16000)")
    parser.add_argument("--fan-in-shapes", type=lambda t: _names(t, ["gather", "paired"]), default=["gather"],
                        help="fan-in: bench/fan_in.py's shapes (default gather; paired stops at 8000 members)")
    parser.add_argument("--placement-workflows", type=lambda t: _names(t, RECIPES), default=["srasearch", "montage"],
                        help="placement: the WfCommons workflows placed (default srasearch,montage)")
    parser.add_argument("--placement-sizes", type=_sizes, default=[5000, 20000],
                        help="placement: their tasks (default 5000,20000)")
    parser.add_argument("--placement-capacities", type=lambda t: _names(t, CAPACITIES), default=["medium", "plentiful"],
                        help="placement: the catalogue's capacities (default medium,plentiful)")
    parser.add_argument("--quality-sizes", type=_sizes,
                        help="placement-quality: tasks of bench/placement/run.py's instances, every workflow, "
                             "capacity and CCR (default 200,1000,5000: tens of minutes; --quick: 200)")
    parser.add_argument("--quality-smoke", action="store_true",
                        help="placement-quality: one instance and one 10-task MILP (the tests' setting)")
    parser.add_argument("--plan-check-recipe", choices=RECIPES, default="montage",
                        help="plan-check: the workflow planned and checked (default montage)")
    parser.add_argument("--plan-check-size", type=int, default=3000, help="plan-check: its tasks (default 3000)")
    parser.add_argument("--repeat", type=int, help="runs per number (median; default 3, --quick: 1)")
    parser.add_argument("--peer-repeat", type=int,
                        help="runs per number of the peers (default: --repeat); they are slow")
    parser.add_argument("--quick", action="store_true",
                        help="issue 19's targets: one run per number, every phase but sweep, smaller defaults, "
                             "--merge")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a run is killed")
    parser.add_argument("--profile-recipe", choices=RECIPES, default="montage",
                        help="the workflow profiled (default montage)")
    parser.add_argument("--profile-check-size", type=int, default=5000,
                        help="tasks of the workflow `mlc check` is profiled on (default 5000)")
    parser.add_argument("--profile-compile-size", type=int, default=1000,
                        help="tasks of the workflow `mlc compile` is profiled on (default 1000)")
    parser.add_argument("--profile-before", type=Path, metavar="DIR",
                        help="profile: also profile the compiler in DIR (e.g. `git archive COMMIT compiler grammar "
                             "templates | tar -x -C DIR`) into the section profile-before")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / ".cache" / "work")
    parser.add_argument("--cache", type=Path, default=wfformat_gen.CACHE,
                        help="where WfFormat instances are generated and kept")
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "results.json")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--img", type=Path, default=REPO / "docs" / "img")
    parser.add_argument("--merge", action="store_true",
                        help="keep the measurements of --results that this run does not redo")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: rewrite the document from --results")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.quick:  # a subset measured again: the rest of the last full run stays in the tables
        args.peer_repeat = args.peer_repeat or 1
        args.merge = True
    if args.peer_repeat is None:
        args.peer_repeat = args.repeat
    return args


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def pace() -> float:
    """CPU seconds of 10^7 additions in a Python loop: how fast this machine
    ran Python at the time (taken when a run begins and when its phases
    end). On the shared VMs the bench runs on, the same code's CPU seconds
    move by up to 2x within an hour; with this beside each run, a reader
    can tell the code from the machine."""
    began = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    return round(time.process_time() - began, 2)


def context(args: argparse.Namespace, argv: list[str]) -> dict:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    return {
        "cores": len(os.sched_getaffinity(0)),
        "memory": f"{int(meminfo[1]) / 1024**2:.1f} GiB",
        "cpu": cpu,
        "invocations": [{
            "when": now(),
            "command": "python bench/run.py " + shlex.join(argv),
            "cpu": cpu,
            "pace": pace(),
        }],
        "versions": {
            "python": platform.python_version(),
            "mlc": metadata.version("mlc"),
            "miniwdl": metadata.version("miniwdl"),
            "snakemake": metadata.version("snakemake"),
            "wfcommons": metadata.version("wfcommons"),
        },
    }


def measure(phase: str, workloads: list[tuple[Workload, list[cases.Case]]], args) -> list[results.Measurement]:
    """Every case of every workload, repeatedly, interleaved so that a burst
    of load on the machine spreads over all tools. A case that timed out is
    not run again: it would only time out again."""
    table = {(w.name, c.tool): results.Measurement(phase, w.label, w.size, w.tasks, w.references, c.tool,
                                                      args.timeout)
             for w, cs in workloads for c in cs}
    trash = args.work / ".trash"
    shutil.rmtree(trash, ignore_errors=True)
    for attempt in range(max(args.repeat, args.peer_repeat)):
        for w, cs in workloads:
            for case in cs:
                measurement = table[(w.name, case.tool)]
                repeat = args.repeat if case.tool in (cases.MLC_CHECK, cases.MLC_COMPILE) else args.peer_repeat
                if attempt >= repeat or measurement.status == "timeout":
                    continue
                if case.needs is not None and not _succeeded_last(table[(w.name, case.needs)]):
                    continue
                if case.fresh is not None:
                    _set_aside(case.fresh, trash)
                log = args.work / "logs" / phase / f"{w.name}-{case.tool.split()[0]}-{attempt}.log"
                outcome = run(list(case.argv), cwd=case.cwd, timeout=args.timeout, log=log,
                              env=probes.environment() if case.checkout else None)
                measurement.runs.append(outcome)
                print(f"{phase:8} {w.name:18} {case.tool:32} run {attempt + 1}/{repeat}: "
                      f"{outcome.status:7} {outcome.seconds:7.2f} s {outcome.peak_mib:7.0f} MiB", flush=True)
    shutil.rmtree(trash, ignore_errors=True)
    return list(table.values())


def _set_aside(folder: Path, trash: Path) -> None:
    """Moves an earlier run's output out of the way, to be deleted once the
    phase is measured. Deleted just before the run, its thousands of files
    slowed the run's own file creation: ext4 without a journal skips inodes
    freed in the last 30 s, so a compile writing into a folder emptied a
    moment before spent 0.8-1.4 s of system time where 0.1-0.2 s will do."""
    if folder.exists():
        trash.mkdir(parents=True, exist_ok=True)
        folder.rename(trash / f"{folder.parent.name}-{len(list(trash.iterdir()))}")


def _succeeded_last(measurement: results.Measurement) -> bool:
    return bool(measurement.runs) and measurement.runs[-1].status == "ok"


def _workloads(sizes: list[int], recipes: list[str], args, clusters: tuple[str, ...] = (sites.DEFAULT,),
               peers=lambda recipe, size: False) -> list[Workload]:
    """Each recipe at each size over each catalogue; written for the peers
    too where `peers(recipe, size)`."""
    prepared = []
    with separate() as apart:  # not in this process, the parent of the measured runs
        for size in sizes:
            for recipe in recipes:
                try:
                    prepared += [apart.submit(prepare, recipe, size, args.work, args.cache, cluster,
                                              peers(recipe, size)).result()
                                 for cluster in clusters]
                except ValueError as error:  # the recipe's smallest workflow is larger
                    print(f"skipped {recipe}-{size}: {error}", file=sys.stderr)
    return prepared


def run_check(args) -> list[results.Measurement]:
    peers = set(args.peer_recipes)

    def compared(recipe: str, size: int) -> bool:
        return recipe in peers and size <= args.peer_max_size

    work = [(w, cases.check_cases(w, peers=compared(w.recipe, w.size)))
            for w in _workloads(args.sizes, args.recipes, args, peers=compared)]
    return measure("check", work, args)


def run_compile(args) -> list[results.Measurement]:
    workloads = _workloads(args.compile_sizes, args.compile_recipes, args, tuple(args.compile_catalogues))
    work = [(w, cases.compile_cases(w)) for w in workloads]
    return measure("compile", work, args)


def run_profiles(args, code: Path | None = None) -> list[profiling.Profile]:
    """cProfile of `mlc check` and `mlc compile`: of this checkout, or of the
    compiler in `code` (--profile-before)."""
    recipe = args.profile_recipe
    profiles = []
    for command, size in (("check", args.profile_check_size), ("compile", args.profile_compile_size)):
        w = prepare(recipe, size, args.work, args.cache, peers=False)
        mlc_args = [command, w.mlx.name] + (["-o", "profile-out"] if command == "compile" else [])
        shutil.rmtree(w.mlx.parent / "profile-out", ignore_errors=True)
        title = ("" if code is None else f"Before ({code}): ") + f"mlc {command}, {w.name} ({w.tasks} tasks)"
        output = args.work / "profiles" / (("before-" if code else "") + f"{command}-{w.name}.prof")
        try:
            profiles.append(profiling.profile(title, mlc_args, w.mlx.parent, output, env=probes.environment(code),
                                              code=code or REPO))
        except RuntimeError as error:
            print(error, file=sys.stderr)
    return profiles


def run_startup(args) -> list[Record]:
    command = f"python bench/startup.py --repeat {args.startup_repeat}"
    return [Record("startup", row["command"], command, row) for row in startup.measure(args.startup_repeat)]


def run_lsp(args) -> list[Record]:
    """The language server: seconds to the diagnostics of a didOpen and of a
    didChange (one, and the last of a burst of five), median of --repeat
    fresh servers."""
    records = []
    for stages in args.lsp_stages:
        for burst in (1, 5):
            runs = [lsp_latency.measure(stages, burst, args.timeout) for _ in range(args.repeat)]
            values = {"stages": stages, "burst": burst, "runs": len(runs),
                      "open_s": statistics.median(r["open_s"] for r in runs),
                      "change_s": statistics.median(r["change_s"] for r in runs)}
            cpu = [r.get("change_cpu_s") for r in runs]  # the server's own CPU, where the script reads it
            if None not in cpu:
                values["change_cpu_s"] = statistics.median(cpu)
            command = f"python bench/lsp_latency.py --stages {stages} --burst {burst} --repeat {args.repeat}"
            records.append(Record("lsp", f"{stages} {burst}", command, values))
            print(f"lsp      {stages:6} stages, burst {burst}: open {values['open_s']:.2f} s, "
                  f"change {values['change_s']:.2f} s", flush=True)
    return records


def lsp_table(records: list[Record]) -> str:
    lines = ["| stages | change | runs | open (s) | diagnostics after the change (s) | server CPU for it (s) |",
             "| ---: | --- | ---: | ---: | ---: | ---: |"]
    for r in sorted(records, key=lambda r: (r.values["stages"], r.values["burst"])):
        v = r.values
        what = "one" if v["burst"] == 1 else f"last of {v['burst']} back to back"
        cpu = f"{v['change_cpu_s']:.2f}" if "change_cpu_s" in v else "–"
        lines.append(f"| {v['stages']} | {what} | {v['runs']} | {v['open_s']:.2f} | {v['change_s']:.2f} | {cpu} |")
    return "\n".join(lines)


def run_frontend(args) -> list[Record]:
    """bench/frontend.py on each workflow: parse against lark's floor,
    traced memory per file reference."""
    records = []
    for recipe in args.frontend_recipes:
        w = prepare(recipe, args.frontend_size, args.work, args.cache, peers=False)
        records.append(probes.frontend(w.name, w.size, w.mlx, args.repeat, args.timeout,
                                       args.work / "logs" / "frontend"))
        v = records[-1].values
        print(f"frontend {w.name:18} parse {v['parse_s']:.2f} s, floor {v['floor_s']:.2f} s, "
              f"{v['bytes_per_reference']:.0f} B per file reference", flush=True)
    return records


def run_fan_in(args) -> list[Record]:
    records = probes.fan_in(args.fan_in_members, args.fan_in_shapes, args.repeat, args.timeout,
                            args.work / "logs" / "fan-in")
    for r in records:
        print(f"fan-in   {r.name:18} {r.values['cpu_s']:.2f} s CPU", flush=True)
    return records


def run_placement(args) -> list[Record]:
    runs = len(args.placement_workflows) * len(args.placement_capacities) * len(args.placement_sizes)
    records = probes.placement(args.placement_workflows, args.placement_capacities, args.placement_sizes,
                               args.repeat, args.timeout * runs, args.work / "logs" / "placement")
    for r in records:
        print(f"place    {r.name:28} {r.values['tasks']:6} tasks {r.values['cpu_s']:.2f} s CPU", flush=True)
    return records


def run_placement_quality(args) -> list[Record]:
    record = probes.placement_quality(args.quality_sizes, args.quality_smoke, args.timeout * 10,
                                      args.work / "logs" / "placement-quality")
    v = record.values
    print(f"quality  {record.name:18} {v['losses']} losses against HEFT, MILP gap worst {v['worst_gap_pct']:.2f}%",
          flush=True)
    return [record]


# plan_vs_check.py takes the least of its runs: one run alone is as noisy as
# the difference it measures (a second of CPU each, 0.2 s apart).
PLAN_CHECK_MIN_REPEAT = 5


def run_plan_check(args) -> list[Record]:
    repeat = max(args.repeat, PLAN_CHECK_MIN_REPEAT)
    record = probes.plan_vs_check(args.plan_check_recipe, args.plan_check_size, repeat,
                                  args.timeout * 2 * repeat, args.work / "logs" / "plan-check")
    v = record.values
    print(f"plan     {record.name:18} check {v['check_cpu_s']:.2f} s, plan {v['plan_cpu_s']:.2f} s CPU", flush=True)
    return [record]


RECORDED = {"startup": run_startup, "lsp": run_lsp, "frontend": run_frontend, "fan-in": run_fan_in,
            "placement": run_placement, "placement-quality": run_placement_quality, "plan-check": run_plan_check}


def write_report(measured: Results, profiles, args, before=()) -> None:
    measurements, records = measured.measurements, measured.records
    doc = args.doc.read_text(encoding="utf-8") if args.doc.exists() else "# Benchmarks\n"
    doc = report.replace_section(doc, "context", report.context_section(measured.context))
    doc = report.replace_section(doc, "targets", report.targets_section(measurements))
    doc = report.replace_section(doc, "issue19-targets", issue19.section(measurements, records))
    for phase in ("check", "compile"):
        if any(m.phase == phase for m in measurements):
            doc = report.replace_section(doc, f"{phase}-table", report.phase_table(measurements, phase))
            doc = report.replace_section(doc, f"{phase}-growth", report.growth_table(measurements, phase))
    if any(m.phase == sweep_cases.PHASE for m in measurements):
        doc = report.replace_section(doc, "sweep-table", report.sweep_table(measurements))
    if profiles:
        doc = report.replace_section(doc, "profile", report.profile_section(profiles))
    if before:
        doc = report.replace_section(doc, "profile-before", report.profile_section(before))
    started = [r.values for r in records if r.phase == "startup"]
    if any(row["command"] == "python -c pass" for row in started):
        doc = report.replace_section(doc, "startup-table", startup.table(started))
    if any(r.phase == "lsp" for r in records):
        doc = report.replace_section(doc, "lsp-table", lsp_table([r for r in records if r.phase == "lsp"]))
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text(doc, encoding="utf-8")
    if plots.available():
        for phase in ("check", "compile"):
            plots.plot(measurements, phase, args.img)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = arguments(argv)
    if args.report_only:
        write_report(results.load(args.results), [], args)
        print(f"wrote {args.doc}")
        return 0
    measured = Results([], context(args, argv))
    if args.merge and args.results.exists():
        measured = results.merge(results.load(args.results), measured)
    failures = []

    def keep(new: Results) -> None:
        """Merged in and saved at once: a long run that breaks keeps what it measured."""
        nonlocal measured
        measured = results.merge(measured, results.stamped(new, now()))
        results.save(measured, args.results)

    def fresh(measurements=(), records=()) -> Results:
        return Results(list(measurements), {**measured.context, "invocations": []}, list(records))

    took: dict[str, float] = {}  # wall seconds per phase, preparing the workloads included

    def timed(phase: str, action):
        started = time.perf_counter()
        try:
            return action(args)
        finally:
            took[phase] = time.perf_counter() - started

    measuring = {"check": run_check, "compile": run_compile,
                 "sweep": lambda a: sweep_cases.measure(a.sweep_kinds, a.sweep_sizes, a.repeat, a.timeout, a.work)}
    for phase, action in measuring.items():
        if phase in args.phases:
            keep(fresh(timed(phase, action)))
    for phase, action in RECORDED.items():
        if phase in args.phases:
            try:
                keep(fresh(records=timed(phase, action)))
            except Exception as error:  # noqa: BLE001 -- any script's failure: reported at the end, the others run
                failures.append(f"{phase}: {error}")
                print(f"{phase} failed: {error}", file=sys.stderr, flush=True)
    # The pace again once measured: how far the machine drifted during the run.
    measured.context["invocations"][-1]["pace_after"] = pace()
    results.save(measured, args.results)
    profiles = timed("profile", run_profiles) if "profile" in args.phases else []
    before = run_profiles(args, args.profile_before) if "profile" in args.phases and args.profile_before else []
    write_report(measured, profiles, args, before)
    print(issue19.section(measured.measurements, measured.records))
    print("wall time per phase: " + ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in took.items())
          + f"; {sum(took.values()) / 60:.1f} min in all")
    print(f"wrote {args.doc} and {args.results}")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
