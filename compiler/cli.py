"""The command line. Thin: parse arguments, call the passes, print, choose
the exit status (0 clean, 1 the input has errors, 2 usage or I/O, 3 a bug)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .records import cli as records_cli

if TYPE_CHECKING:
    from .diagnostics import Diagnostic, SourceCache

# The diagnostics (and through them the pydantic IR), the front end, the
# back ends and the runner are imported by the commands that use them, so
# `mlc --version` and `mlc --help` start in a few tens of milliseconds.

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


class UsageError(Exception):
    """A problem with the command line or the file system (exit 2)."""


def _overrides(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        name, eq, value = pair.partition("=")
        if not eq or not name:
            raise UsageError(f"-p takes NAME=VALUE, got `{pair}`")
        out[name.strip()] = value
    return out


def _report(args, diags: list[Diagnostic], sources: SourceCache, stream=None) -> None:
    from .diagnostics import render_json, render_text, summary

    stream = stream or sys.stderr
    if getattr(args, "format", "text") == "json":
        print(render_json(diags), file=sys.stdout)
        return
    if diags:
        print(render_text(diags, sources), file=stream, end="")
        print(summary(diags), file=stream)


def _load(args):
    """Check the experiment; returns (experiment or None, exit status)."""
    from .frontend import InputUnreadable, load

    try:
        experiment, diags, sources = load(args.file, _overrides(args.param))
    except InputUnreadable as err:
        raise UsageError(str(err)) from None
    args._sources = sources
    # Held until main() ends: a large experiment's millions of objects are
    # then not freed one by one on the way out (see _exit_without_teardown).
    args._experiment = experiment
    items = diags.sorted()
    if experiment is None or diags.has_errors:
        _report(args, items, sources)
        return None, EXIT_ERRORS
    if items and args.format != "json":
        _report(args, items, sources)
    args._warnings = items
    return experiment, EXIT_OK


def _objective_override(args, experiment):
    from .ir import Objective

    if not getattr(args, "objective", None) and getattr(args, "deadline", None) is None \
            and getattr(args, "budget", None) is None:
        return None
    base = experiment.objective
    given = _parse_objective(args.objective) if args.objective else base
    # A limit given on the command line has no place in the source to point at.
    return Objective(kind=given.kind, time_weight=given.time_weight, cost_weight=given.cost_weight,
                     deadline=args.deadline if args.deadline is not None else base.deadline,
                     budget=args.budget if args.budget is not None else base.budget, span=base.span,
                     deadline_span=None if args.deadline is not None else base.deadline_span,
                     budget_span=None if args.budget is not None else base.budget_span)


_OBJECTIVE_SOURCE = "--objective"


def _parse_objective(text: str):
    """`--objective` is read exactly as `objective = ...` in a source: the
    front end checks it inside a one-line experiment of its own, so the
    command line accepts what the language does, with the same diagnostics."""
    if any(c in text for c in "{}\n\r") or "//" in text or "/*" in text:
        raise UsageError(f"--objective takes makespan, cost or weighted(time = W, cost = W), got `{text}`")
    from .diagnostics import render_text
    from .frontend import load

    source = f"experiment objective {{\n  objective = {text}\n}}\n"
    experiment, diags, sources = load(_OBJECTIVE_SOURCE, read=lambda path: source if path == _OBJECTIVE_SOURCE
                                      else None)
    if experiment is None:
        raise UsageError("--objective is not an objective:\n" + render_text(diags.sorted(), sources).rstrip())
    return experiment.objective


def _backend_failure(args, err) -> int:
    """A back end cannot express the plan (a value no scheduler accepts):
    reported like any other diagnostic, with the source line."""
    from .diagnostics import Diagnostic

    _report(args, [Diagnostic("E1001", err.message, err.span)], args._sources)
    return EXIT_ERRORS


def _place(args, experiment, waits=None):
    from .diagnostics import Diagnostic
    from .placement import PlacementError, place

    try:
        return place(experiment, _objective_override(args, experiment), waits), EXIT_OK
    except PlacementError as err:
        _report(args, sorted(err.diagnostics, key=Diagnostic.sort_key), args._sources)
        return None, EXIT_ERRORS


def _load_and_place(args):
    """Check, then place: (experiment, plan, exit status); plan is None on errors."""
    experiment, status = _load(args)
    if experiment is None:
        return None, None, status
    experiment, learned = records_cli.with_history(args, experiment)
    if getattr(args, "live", False):
        from .placement import live

        waits, notes = live.queue_waits(experiment)
        plan, status = _place(args, experiment, waits)
        plan = plan if plan is None else live.explain(plan, waits, notes)
    else:
        plan, status = _place(args, experiment)
    return experiment, records_cli.explained(plan, learned), status


# --- commands ---------------------------------------------------------------


def cmd_check(args) -> int:
    from .diagnostics import render_json

    experiment, status = _load(args)
    if experiment is None:
        return status
    if args.emit_ir:
        print(experiment.model_dump_json(indent=2))
    elif args.format == "json":
        print(render_json(getattr(args, "_warnings", [])))
    else:
        n = len(experiment.instances)
        print(f"{args.file}: ok ({len(experiment.stages)} stages, {n} instances, "
              f"{len(experiment.services)} services, {len(experiment.sites)} sites)")
    return EXIT_OK


def cmd_schema(args) -> int:
    from .ir import Experiment, Plan

    model = {"ir": Experiment, "plan": Plan}[args.which]
    # What `--emit-ir` and `mlc plan --json` write, derived fields included.
    print(json.dumps(model.model_json_schema(mode="serialization"), indent=2, sort_keys=True))
    return EXIT_OK


def cmd_plan(args) -> int:
    from .placement import render_table

    experiment, plan, status = _load_and_place(args)
    if plan is None:
        return status
    check = None
    if args.exact:
        from .placement.exact_check import ExactUnavailable, check_exact, render_check

        try:
            check = check_exact(experiment, plan)
        except ExactUnavailable as err:
            raise UsageError(str(err)) from None
    if args.format == "json":
        text = plan.model_dump_json(indent=2)
        if check is not None:
            text = json.dumps({"plan": json.loads(text), "exact": check.as_dict()}, indent=2)
        print(text)
    else:
        print(render_table(experiment, plan) + (render_check(check) if check else ""))
    return EXIT_OK


def cmd_compile(args) -> int:
    from .backends import BackendError, FolderError, WriteConflict, compile_to

    experiment, plan, status = _load_and_place(args)
    if plan is None:
        return status
    outdir = Path(args.out) / experiment.name
    try:
        changed = compile_to(experiment, plan, outdir, check=args.check, force=args.force)
    except WriteConflict as err:
        print(f"mlc: {err}", file=sys.stderr)
        return EXIT_ERRORS
    except FolderError as err:  # the folder cannot be used as it is (a link, a bad manifest, -o a file)
        raise UsageError(str(err)) from None
    except BackendError as err:
        return _backend_failure(args, err)
    if args.format == "json":
        print(json.dumps({"folder": str(outdir), "check": args.check, "up_to_date": not changed,
                          "changed": [str(path) for path in changed],
                          "diagnostics": [d.to_json() for d in getattr(args, "_warnings", [])]}, indent=2))
        return EXIT_ERRORS if args.check and changed else EXIT_OK
    if args.check:
        if changed:
            print(f"{outdir}: out of date with {args.file}:", file=sys.stderr)
            for path in changed:
                print(f"  {path}", file=sys.stderr)
            print(f"run `mlc compile {args.file}` and commit the result", file=sys.stderr)
            return EXIT_ERRORS
        print(f"{outdir}: up to date")
        return EXIT_OK
    if changed:
        # One write: under PYTHONUNBUFFERED each print is two system calls,
        # ten thousand for a thousand-stage Kubernetes folder.
        lines = [f"{outdir}: {len(changed)} file{'s' if len(changed) != 1 else ''} written or removed",
                 *(f"  {path}" for path in changed)]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        print(f"{outdir}: up to date")
    return EXIT_OK


def _add_run_id(p) -> None:
    p.add_argument("--run-id", metavar="ID", help="the run identity on Kubernetes sites (default: config.yaml's "
                   "run, else your login name; docs/kubernetes.md)")


def _export_run_id(args) -> None:
    """The Kubernetes scripts read MLC_RUN; the command line's id wins."""
    if getattr(args, "run_id", None):
        os.environ["MLC_RUN"] = args.run_id


def cmd_run(args) -> int:
    from .backends import BackendError
    from .runner import run
    from .runner.passthrough import PassThroughError, checked

    _export_run_id(args)
    try:
        checked(args.snakemake)
    except PassThroughError as err:
        raise UsageError(str(err)) from None
    experiment, plan, status = _load_and_place(args)
    if plan is None:
        return status
    try:
        return run(experiment, plan, Path(args.out) / experiment.name, args)
    except BackendError as err:
        return _backend_failure(args, err)


def cmd_status(args) -> int:
    from .runner import status

    _export_run_id(args)
    experiment, code = _load(args)
    if experiment is None:
        return code
    return status(experiment, Path(args.out) / experiment.name, args)


def cmd_down(args) -> int:
    from .runner import down

    if args.format == "json":
        raise UsageError("`mlc down` prints what it stopped as text; it has no --format json")
    _export_run_id(args)
    experiment, code = _load(args)
    if experiment is None:
        return code
    return down(experiment, Path(args.out) / experiment.name, args)


def cmd_clean(args) -> int:
    from .runner.clean import clean

    if args.format == "json":
        raise UsageError("`mlc clean` prints what it removes as text; it has no --format json")
    experiment, code = _load(args)
    if experiment is None:
        return code
    return clean(experiment, Path(args.out) / experiment.name, args)


def cmd_fmt(args) -> int:
    from .editors.fmt import run_fmt

    return run_fmt(args)


def cmd_lsp(args) -> int:
    try:
        from .editors.lsp import serve
    except ImportError as err:  # pygls is an optional extra
        raise UsageError(f"the language server needs pygls ({err.name} is missing): "
                         "pip install 'mlc[lsp]'") from None

    serve()
    return EXIT_OK


def cmd_import(args) -> int:
    from .diagnostics import Diagnostic, SourceCache, render_text, summary
    from .interop import SITES_FILE, import_mldev, import_wfformat

    path = _import_source(args.file)
    if path.stat().st_size == 0:
        print(f"mlc: {args.file}: the file is empty: there is nothing to import", file=sys.stderr)
        return EXIT_ERRORS
    if args.format_name == "mldev":
        result = import_mldev(path)
    else:
        result = import_wfformat(path, sites=args.sites)
    sources = SourceCache()
    try:
        sources.add(str(path), path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        pass
    items = sorted(result.diagnostics, key=Diagnostic.sort_key)
    if items:
        print(render_text(items, sources), file=sys.stderr, end="")
        print(summary(items), file=sys.stderr)
    if any(d.severity == "error" for d in items) or result.text is None:
        return EXIT_ERRORS
    if args.output:
        out = Path(args.output)
        if out.exists() and not args.force:
            raise UsageError(f"{out} exists; pass --force to overwrite it")
        out.write_text(result.text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
        if result.sites_text:
            sites_out = out.with_name(SITES_FILE)
            if sites_out.exists() and not args.force:
                raise UsageError(f"{sites_out} exists; pass --force to overwrite it")
            sites_out.write_text(result.sites_text, encoding="utf-8")
            print(f"wrote {sites_out}", file=sys.stderr)
    else:
        sys.stdout.write(result.text)
        if result.sites_text:
            sys.stdout.write("\n// --- site catalog (save as sites.mlx) ---\n" + result.sites_text)
    return EXIT_OK


def _import_source(name: str) -> Path:
    """The file to import, or a usage error saying what it is instead."""
    import stat

    path = Path(name)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except OSError as err:
        raise UsageError(f"{name}: cannot read it: {err.strerror}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{name}: is a directory; give the file to import")
    if not stat.S_ISREG(mode):
        kind = ("a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode)
                else "a pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")
        raise UsageError(f"{name}: is {kind}, not a regular file; give the file to import")
    return path


# --- argument parsing -------------------------------------------------------


def _add_input(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="the experiment, an .mlx file")
    p.add_argument("-p", "--param", action="append", metavar="NAME=VALUE",
                   help="override a param (the value is written as in .mlx: 3, 0.1, \"text\", 8GiB)")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="how to print diagnostics (json: for editors and CI)")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the stack of internal errors")


def _add_objective(p: argparse.ArgumentParser) -> None:
    p.add_argument("--objective", metavar="OBJECTIVE",
                   help="override the experiment's objective: makespan, cost or "
                        "'weighted(time = W, cost = W)', written as in .mlx")
    p.add_argument("--deadline", type=_duration, metavar="DURATION",
                   help="a deadline, e.g. 36h (overrides the experiment's)")
    p.add_argument("--budget", type=_money, metavar="MONEY", help="a budget (overrides the experiment's)")


def _duration(text: str) -> float:
    from .frontend.limits import MAX_DURATION
    from .frontend.units import DURATION, lookup

    import re

    m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]+)", text.strip())
    unit = lookup(m.group(2)) if m else None
    if unit is None or unit[0] != DURATION:
        raise argparse.ArgumentTypeError(f"`{text}` is not a duration such as 36h or 90m")
    seconds = float(m.group(1)) * unit[1]
    if not seconds <= MAX_DURATION:
        raise argparse.ArgumentTypeError(f"`{text}` is longer than {MAX_DURATION / 86400:g}d")
    return seconds


def _money(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not an amount of money such as 250") from None
    if not math.isfinite(value) or value < 0:  # inf and nan parse as floats too
        raise argparse.ArgumentTypeError(f"`{text}` is not a finite amount of zero or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlc",
        description="mlc compiles one .mlx experiment into sbatch scripts, Kubernetes "
                    "manifests and a Snakemake workflow placed across Slurm, Kubernetes, "
                    "ssh and local sites.",
        epilog="Exit status: 0 clean, 1 the input has errors, 2 usage or I/O problem, "
               "3 internal error. Docs: docs/language.md, docs/errors.md.",
    )
    parser.add_argument("--version", action="version", version=f"mlc {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the stack of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("check", help="check an experiment: names, types, units, the DAG, feasibility")
    _add_input(p)
    p.add_argument("--emit-ir", action="store_true", help="print the typed IR as JSON")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("plan", help="place every stage on a site and print the plan with reasons")
    _add_input(p)
    _add_objective(p)
    p.add_argument("--exact", action="store_true",
                   help="also solve the exact MILP (needs the `exact` extra; up to 20 stage instances, "
                        "no services) and print how far the plan is from the optimum; the plan itself "
                        "never depends on it")
    p.add_argument("--live", action="store_true",
                   help="ask each Slurm site when a job would start now (sbatch --test-only, over its "
                        "login) and start nothing on a partition before then; the reasons say so")
    records_cli.add_history_flags(p, "plan")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("compile", help="generate sbatch scripts, manifests and the Snakefile")
    _add_input(p)
    _add_objective(p)
    p.add_argument("-o", "--out", default="out", help="output root (default: out); the "
                   "experiment goes to OUT/<experiment>/")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 listing the files that differ from what the source produces")
    p.add_argument("--force", action="store_true",
                   help="overwrite generated files that were edited by hand")
    records_cli.add_history_flags(p, "compile")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("run", help="compile, then run the experiment through Snakemake")
    _add_input(p)
    _add_objective(p)
    p.add_argument("-o", "--out", default="out", help="output root (default: out)")
    p.add_argument("--dry-run", action="store_true", help="show what would run")
    p.add_argument("--cores", type=int, default=0, help="local cores the stages on this machine may use "
                   "(default: the number of CPUs); waiting for a Slurm or Kubernetes job uses none")
    p.add_argument("--jobs", type=int, default=0, metavar="N",
                   help="at most N steps in flight at once (default: as many as the sites' limits allow)")
    p.add_argument("--keep-going", action="store_true",
                   help="after a step fails, go on with the steps that do not depend on it")
    p.add_argument("--force", action="store_true", help="overwrite generated files edited by hand")
    p.epilog = ("Progress: a status line rewritten in place on a terminal, a line per step otherwise; "
                "--format json streams one JSON object per event on stdout (docs/running.md). "
                "Options after `--` go to Snakemake as they are: `mlc run exp.mlx -- --forcerun train`. "
                "Those mlc sets itself (--snakefile, --directory, --cores, --jobs, --keep-going, --dry-run, "
                "--nocolor, --rerun-incomplete, --printshellcmds, --unlock, --summary) are refused.")
    _add_run_id(p)
    records_cli.add_history_flags(p, "run")
    p.set_defaults(func=cmd_run, snakemake=[])

    p = sub.add_parser("status", help="show each stage's state and each service's endpoint")
    _add_input(p)
    p.add_argument("-o", "--out", default="out", help="output root (default: out)")
    _add_run_id(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("down", help="tear down what the experiment deployed, and nothing else")
    _add_input(p)
    p.add_argument("-o", "--out", default="out", help="output root (default: out)")
    _add_run_id(p)
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("clean", help="list (or with --delete remove) cached results no work tree shows")
    _add_input(p)
    p.add_argument("-o", "--out", default="out", help="output root (default: out)")
    p.add_argument("--delete", action="store_true", help="remove them (without it: only list them)")
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("fmt", help="format .mlx files in place (one canonical style)")
    p.add_argument("paths", nargs="+", help="files or folders")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 listing files that would change")
    p.add_argument("--diff", action="store_true", help="write nothing; print the change")
    p.set_defaults(func=cmd_fmt)

    p = sub.add_parser("lsp", help="run the language server over stdio")
    p.set_defaults(func=cmd_lsp)

    p = sub.add_parser("import", help="translate an MLDev experiment or a WfFormat trace to .mlx")
    p.add_argument("format_name", choices=["mldev", "wfformat"], metavar="FORMAT",
                   help="mldev or wfformat")
    p.add_argument("file", help="the file to translate")
    p.add_argument("-o", "--output", help="write here instead of standard output")
    p.add_argument("--sites", action="store_true", help="wfformat: also write a site catalog")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("schema", help="print the JSON schema of the IR or the plan")
    p.add_argument("which", choices=["ir", "plan"], nargs="?", default="ir")
    p.set_defaults(func=cmd_schema)
    records_cli.add_report(sub, _load, UsageError)
    return parser


_BATCH_COMMANDS = {cmd_check, cmd_plan, cmd_compile, cmd_import, cmd_fmt, cmd_schema}


def _after_separator(argv: list[str]) -> tuple[list[str], list[str]]:
    """For `mlc run`: mlc's arguments, and those after the first `--`
    (Snakemake's); argparse would match them against mlc's own positionals."""
    command = next((word for word in argv if not word.startswith("-")), None)
    if command != "run" or "--" not in argv:  # elsewhere `--` keeps its usual meaning
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1:]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    from_command_line = argv is None
    argv, passed = _after_separator(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if passed:
        args.snakemake = passed
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    if args.func in _BATCH_COMMANDS:
        # Short-lived runs that allocate millions of small acyclic objects:
        # the cyclic collector would rescan the growing heap again and again
        # and find nothing to free (superlinear time on large experiments).
        gc.disable()
    status = _dispatch(args)
    # Not under a profiler or a coverage tracer: they write their results on the way out.
    if from_command_line and args.func in _BATCH_COMMANDS and sys.getprofile() is None and sys.gettrace() is None:
        _exit_without_teardown(status)
    return status


def _exit_without_teardown(status: int) -> None:
    """End the process now, its output flushed: freeing what a batch command
    built, object by object, costs time and gives nothing back to anyone
    (half a second for an experiment of a million file references); the
    system takes the memory back at once. Only from the command line: a
    caller of main() keeps its process."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        pass  # a closed pipe: what could not be written stays unwritten, as on the normal way out
    os._exit(status)


def _dispatch(args) -> int:
    try:
        return args.func(args)
    except UsageError as err:
        print(f"mlc: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mlc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `mlc check --emit-ir | head`: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as err:  # noqa: BLE001 - the last line of defence
        if args.debug:
            import traceback  # only here: it imports textwrap, linecache (~5 ms on every run)

            traceback.print_exc()
        else:
            print(f"mlc: internal error: {type(err).__name__}: {err}", file=sys.stderr)
            print("mlc: this is a bug in mlc; please report it with the input that caused it "
                  "(rerun with --debug for the stack)", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
