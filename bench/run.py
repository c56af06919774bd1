#!/usr/bin/env python3
"""Benchmarks of mlc against its peers (miniwdl, Snakemake) on WfCommons
workflows, written up in docs/benchmarks.md.

    python bench/run.py                     # everything, 3 runs per number
    python bench/run.py --quick             # 1 run per number
    python bench/run.py --sizes 1000 --recipes montage --phases check
    python bench/run.py --report-only       # rewrite the document from the last results
    python bench/run.py --phases sweep --merge   # one sweep on every kind of site

Phases: `check` (mlc check / miniwdl check / snakemake -n), `compile` (mlc
compile / snakemake -n on the Snakefile mlc wrote), `sweep` (mlc compile and
code generation alone of one N-member sweep pinned to each kind of site:
local, Slurm, Kubernetes), `profile` (cProfile of mlc check and mlc compile),
`startup` (mlc --version, check and compile of the quickstart next to a bare
python: bench/startup.py), `lsp` (the language server's diagnostics after a
change, over a pipe: bench/lsp_latency.py), `frontend` (parsing against lark's
own floor, memory per file reference, wide fan-ins; printed). Every run is a fresh process; a number is the
median of --repeat runs; peers are skipped above --peer-max-size and killed
after --timeout seconds (recorded as a timeout)."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import lsp_latency
import startup
import wfformat_gen
from suite import cases, plots, profiling, report, results, sites, sweep_cases, sweeps
from suite.measure import run
from suite.workloads import Workload, prepare

REPO = Path(__file__).resolve().parent.parent
RECIPES = sorted(wfformat_gen.RECIPES)
PHASES = ["check", "compile", "sweep", "profile", "startup", "lsp", "frontend"]


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
    parser.add_argument("--sizes", type=_sizes, default=[1000, 5000, 20000],
                        help="check: tasks per workflow (default 1000,5000,20000)")
    parser.add_argument("--compile-sizes", type=_sizes, default=[1000, 5000],
                        help="compile: tasks per workflow (default 1000,5000)")
    parser.add_argument("--recipes", type=lambda t: _names(t, RECIPES), default=RECIPES,
                        help="WfCommons recipes measured with mlc (default: all)")
    parser.add_argument("--peer-recipes", type=lambda t: _names(t, RECIPES),
                        default=["1000genome", "epigenomics", "montage"],
                        help="the recipes also measured with the peers (they are slow)")
    parser.add_argument("--peer-max-size", type=int, default=5000,
                        help="peers are not run above this many tasks (default 5000)")
    parser.add_argument("--compile-recipes", type=lambda t: _names(t, RECIPES),
                        default=["epigenomics", "montage"],
                        help="the recipes `mlc compile` is measured on")
    parser.add_argument("--compile-catalogues", type=lambda t: _names(t, sorted(sites.CLUSTERS)),
                        default=sorted(sites.CLUSTERS),
                        help="compile: the catalogues' cluster kinds, each with a workstation (default: all)")
    parser.add_argument("--sweep-sizes", type=_sizes, default=[400, 1600, 6400],
                        help="sweep: members of the sweep (default 400,1600,6400)")
    parser.add_argument("--sweep-kinds", type=lambda t: _names(t, sorted(sweeps.KINDS)),
                        default=sorted(sweeps.KINDS), help="sweep: the kinds of site (default: all)")
    parser.add_argument("--phases", type=lambda t: _names(t, PHASES), default=PHASES)
    parser.add_argument("--lsp-stages", type=_sizes, default=[1000, 5000],
                        help="lsp: stages of the edited file (default 1000,5000)")
    parser.add_argument("--startup-repeat", type=int, default=10,
                        help="startup: runs per command (default 10; they are short)")
    parser.add_argument("--frontend-recipes", type=lambda t: _names(t, RECIPES), default=["montage", "soykb"],
                        help="frontend: the workflows parsed against lark's floor (default montage,soykb)")
    parser.add_argument("--frontend-size", type=int, default=5000,
                        help="frontend: their tasks (default 5000)")
    parser.add_argument("--fan-in-members", default="4000,16000",
                        help="frontend: members of bench/fan_in.py's gathering sweeps (default 4000,16000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per number (median)")
    parser.add_argument("--peer-repeat", type=int,
                        help="runs per number of the peers (default: --repeat); they are slow")
    parser.add_argument("--quick", action="store_true", help="one run per number")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a run is killed")
    parser.add_argument("--profile-recipe", choices=RECIPES, default="montage",
                        help="the workflow profiled (default montage)")
    parser.add_argument("--profile-check-size", type=int, default=5000,
                        help="tasks of the workflow `mlc check` is profiled on (default 5000)")
    parser.add_argument("--profile-compile-size", type=int, default=1000,
                        help="tasks of the workflow `mlc compile` is profiled on (default 1000)")
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
    if args.quick:
        args.repeat = args.peer_repeat = 1
    if args.peer_repeat is None:
        args.peer_repeat = args.repeat
    return args


def context(args: argparse.Namespace, argv: list[str]) -> dict:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    return {
        "cores": len(os.sched_getaffinity(0)),
        "memory": f"{int(meminfo[1]) / 1024**2:.1f} GiB",
        "cpu": cpu,
        "invocations": [{
            "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": "python bench/run.py " + shlex.join(argv),
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
                    shutil.rmtree(case.fresh, ignore_errors=True)
                log = args.work / "logs" / phase / f"{w.name}-{case.tool.split()[0]}-{attempt}.log"
                outcome = run(list(case.argv), cwd=case.cwd, timeout=args.timeout, log=log)
                measurement.runs.append(outcome)
                print(f"{phase:8} {w.name:18} {case.tool:32} run {attempt + 1}/{repeat}: "
                      f"{outcome.status:7} {outcome.seconds:7.2f} s {outcome.peak_mib:7.0f} MiB", flush=True)
    return list(table.values())


def _succeeded_last(measurement: results.Measurement) -> bool:
    return bool(measurement.runs) and measurement.runs[-1].status == "ok"


def _workloads(sizes: list[int], recipes: list[str], args, clusters: tuple[str, ...] = (sites.DEFAULT,)
               ) -> list[Workload]:
    prepared = []
    for size in sizes:
        for recipe in recipes:
            try:
                prepared += [prepare(recipe, size, args.work, args.cache, cluster) for cluster in clusters]
            except ValueError as error:  # the recipe's smallest workflow is larger
                print(f"skipped {recipe}-{size}: {error}", file=sys.stderr)
    return prepared


def run_check(args) -> list[results.Measurement]:
    peers = set(args.peer_recipes)
    work = [(w, cases.check_cases(w, peers=w.recipe in peers and w.size <= args.peer_max_size))
            for w in _workloads(args.sizes, args.recipes, args)]
    return measure("check", work, args)


def run_compile(args) -> list[results.Measurement]:
    workloads = _workloads(args.compile_sizes, args.compile_recipes, args, tuple(args.compile_catalogues))
    work = [(w, cases.compile_cases(w)) for w in workloads]
    return measure("compile", work, args)


def run_profiles(args) -> list[profiling.Profile]:
    recipe = args.profile_recipe
    profiles = []
    for command, size in (("check", args.profile_check_size), ("compile", args.profile_compile_size)):
        w = prepare(recipe, size, args.work, args.cache)
        mlc_args = [command, w.mlx.name] + (["-o", "profile-out"] if command == "compile" else [])
        shutil.rmtree(w.mlx.parent / "profile-out", ignore_errors=True)
        try:
            profiles.append(profiling.profile(f"mlc {command}, {w.name} ({w.tasks} tasks)", mlc_args,
                                              w.mlx.parent, args.work / "profiles" / f"{command}-{w.name}.prof"))
        except RuntimeError as error:
            print(error, file=sys.stderr)
    return profiles


def run_lsp(args) -> str:
    """The language server: seconds to the diagnostics of a didOpen and of a
    didChange (one, and the last of a burst of five), median of --repeat
    fresh servers."""
    lines = ["| stages | change | runs | open (s) | diagnostics after the change (s) |",
             "| ---: | --- | ---: | ---: | ---: |"]
    for stages in args.lsp_stages:
        for burst in (1, 5):
            runs = [lsp_latency.measure(stages, burst, args.timeout) for _ in range(args.repeat)]
            opened = sorted(r["open_s"] for r in runs)[len(runs) // 2]
            changed = sorted(r["change_s"] for r in runs)[len(runs) // 2]
            what = "one" if burst == 1 else f"last of {burst} back to back"
            lines.append(f"| {stages} | {what} | {len(runs)} | {opened:.2f} | {changed:.2f} |")
            print(f"lsp      {stages:6} stages, {what}: open {opened:.2f} s, change {changed:.2f} s", flush=True)
    return "\n".join(lines)


def run_frontend(args) -> None:
    """Printed, not tabulated: bench/frontend.py (parse against lark's floor,
    traced memory per file reference) and bench/fan_in.py (wide fan-ins),
    each in a fresh process; docs/benchmarks.md quotes them by hand."""
    here = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for recipe in args.frontend_recipes:
        w = prepare(recipe, args.frontend_size, args.work, args.cache)
        subprocess.run([sys.executable, str(here / "frontend.py"), str(w.mlx), "--repeat", str(args.repeat),
                        "--memory"], env=env, check=True)
    subprocess.run([sys.executable, str(here / "fan_in.py"), "--members", args.fan_in_members, "--shapes", "gather",
                    "--repeat", str(args.repeat)], env=env, cwd=here, check=True)



def write_report(measurements, context_, profiles, args, extra: dict[str, str] | None = None) -> None:
    doc = args.doc.read_text(encoding="utf-8") if args.doc.exists() else "# Benchmarks\n"
    doc = report.replace_section(doc, "context", report.context_section(context_))
    doc = report.replace_section(doc, "targets", report.targets_section(measurements))
    for phase in ("check", "compile"):
        if any(m.phase == phase for m in measurements):
            doc = report.replace_section(doc, f"{phase}-table", report.phase_table(measurements, phase))
            doc = report.replace_section(doc, f"{phase}-growth", report.growth_table(measurements, phase))
    if any(m.phase == sweep_cases.PHASE for m in measurements):
        doc = report.replace_section(doc, "sweep-table", report.sweep_table(measurements))
    if profiles:
        doc = report.replace_section(doc, "profile", report.profile_section(profiles))
    for name, body in (extra or {}).items():
        doc = report.replace_section(doc, name, body)
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text(doc, encoding="utf-8")
    if plots.available():
        for phase in ("check", "compile"):
            plots.plot(measurements, phase, args.img)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = arguments(argv)
    if args.report_only:
        measurements, context_ = results.load(args.results)
        write_report(measurements, context_, [], args)
        return 0
    if set(args.phases) == {"frontend"}:  # printed only: no results, no report to rewrite
        run_frontend(args)
        return 0
    context_ = context(args, argv)
    measurements = []
    if "check" in args.phases:
        measurements += run_check(args)
    if "compile" in args.phases:
        measurements += run_compile(args)
    if "sweep" in args.phases:
        measurements += sweep_cases.measure(args.sweep_kinds, args.sweep_sizes, args.repeat, args.timeout, args.work)
    if args.merge and args.results.exists():
        measurements, context_ = results.merge(results.load(args.results), (measurements, context_))
    results.save(measurements, context_, args.results)
    profiles = run_profiles(args) if "profile" in args.phases else []
    extra = {}
    if "startup" in args.phases:
        extra["startup-table"] = startup.table(startup.measure(args.startup_repeat))
        print(extra["startup-table"], flush=True)
    if "lsp" in args.phases:
        extra["lsp-table"] = run_lsp(args)
    if "frontend" in args.phases:
        run_frontend(args)
    write_report(measurements, context_, profiles, args, extra)
    print(f"wrote {args.doc} and {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
