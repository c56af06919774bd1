"""The command line of the records: `mlc report`, and the history flags of
plan, compile and run (compiler/cli.py calls these, one line each)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# plan only reads: it learns by default. compile and run write the compiled
# folder, which must depend on the sources alone unless asked (so that
# `mlc compile --check` stays reproducible after a run).
HISTORY_DEFAULT = {"plan": True, "run": False, "compile": False}


def add_history_flags(p: argparse.ArgumentParser, command: str) -> None:
    group = p.add_mutually_exclusive_group()
    default = " (the default)"
    group.add_argument("--history", dest="history", action="store_true",
                       help="estimate run times from the runs recorded in the output folder (docs/records.md)"
                            + (default if HISTORY_DEFAULT[command] else "; the compiled folder then depends on them"))
    group.add_argument("--no-history", dest="history", action="store_false",
                       help="plan from the sources alone" + ("" if HISTORY_DEFAULT[command] else default))
    if command == "plan":
        p.add_argument("-o", "--out", default="out",
                       help="output root whose records the plan learns from (default: out)")
    p.set_defaults(history=HISTORY_DEFAULT[command])


def with_history(args, experiment):
    """The experiment with learned estimates (when asked) and what was learned.
    Records this mlc cannot read are reported and planned without."""
    if not getattr(args, "history", False):
        return experiment, {}  # without the records' modules (sqlite3 among them)
    from .learn import learn
    from .store import StoreError

    try:
        return learn(experiment, Path(args.out) / experiment.name)
    except StoreError as err:
        print(f"mlc: warning: {err}: planning from the sources alone", file=sys.stderr)
        return experiment, {}


def explained(plan, learned):
    if plan is None or not learned:
        return plan
    from .learn import explain

    return explain(plan, learned)


def add_report(sub, load, usage_error: type[Exception]) -> None:
    """`mlc report`; `load` and `usage_error` are compiler/cli.py's own (its
    `_load`, and the error its main() reports as a usage error)."""
    p = sub.add_parser("report", help="what the recorded runs used, per stage and pool, with suggestions")
    p.add_argument("folder", help="an output folder (out/<experiment>) or the experiment's .mlx file")
    p.add_argument("-o", "--out", default="out", help="output root, when given an .mlx file (default: out)")
    p.add_argument("-p", "--param", action="append", metavar="NAME=VALUE", help="as for `mlc run`")
    p.add_argument("--format", choices=["text", "json", "html"], default="text",
                   help="html: a page with a plot of estimated against measured time")
    p.set_defaults(func=cmd_report, _load_experiment=load, _usage_error=usage_error)


def cmd_report(args) -> int:
    from .report import render
    from .store import StoreError

    folder = Path(args.folder)
    if not folder.is_dir():
        args.file = args.folder
        fmt, args.format = args.format, ("json" if args.format == "json" else "text")
        experiment, status = args._load_experiment(args)
        args.format = fmt
        if experiment is None:
            return status
        folder = Path(args.out) / experiment.name
    try:
        print(render(folder, args.format))
    except StoreError as err:
        raise args._usage_error(str(err)) from None
    return 0
