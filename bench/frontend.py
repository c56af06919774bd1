#!/usr/bin/env python3
"""The front end on one .mlx file, in this process (issue 19): how parsing
compares with lark's own floor, and the memory per file reference.

    python bench/frontend.py FILE.mlx [--repeat 3] [--memory]

Prints CPU seconds (the best of --repeat) of
- `floor`: lark's lexer and LALR driver with callbacks that build nothing
  (what any parser built on lark costs);
- `lark parse`: lark's path to the same tree (frontend/lalr.py, then the
  strings decoded): what the front end ran before the fast parser, and
  still runs on a file with a syntax error;
- `parse`: the front end's parse of the file (syntax.parse_module: the fast
  parser, frontend/descent.py, the AST, strings decoded);
- `check`: the whole front end (`compiler.frontend.check`: parse, check,
  lower to the IR), and the share of it that is parsing;
and with --memory, tracemalloc's peak during `check` (which keeps the
syntax tree for the language server) and during `load` (the command line's
path, which lets each stage's syntax go once it is lowered), and the bytes
per file reference (an `in` or `out` port written in the file) at each.
Peak RSS of the command line is measured by bench/run.py (GNU time)."""

from __future__ import annotations

import argparse
import gc
import re
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from compiler.diagnostics import Diagnostics  # noqa: E402
from compiler.frontend import check, lalr, load, syntax  # noqa: E402


def _cpu(action, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        action()
        best = min(best, time.process_time() - start)
    return best


def floor(text: str) -> None:
    """Lex and drive the LALR tables, reducing every rule to None."""
    parser = lalr._lark()
    driver = parser.parser.parser.parser  # ParsingFrontend -> LALR_Parser -> _Parser
    saved = driver.callbacks
    driver.callbacks = {rule: _nothing for rule in saved}
    try:
        parser.parse(text, start="start")
    finally:
        driver.callbacks = saved


def _nothing(children):
    return None


def lark_parse(text: str, path: str) -> None:
    diags = Diagnostics()
    decls = lalr.parse_module(text, path, diags)
    finisher = syntax._Finisher(path, diags)
    for d in decls:
        finisher.decl(d)


def references(text: str) -> int:
    """`in NAME =` and `out NAME =`, on lines of their own or not."""
    return len(re.findall(r"(?:^|[;{])\s*(?:in|out)\s+\w+\s*=", text, re.MULTILINE))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="also trace the peak memory of the check")
    args = parser.parse_args(argv)
    text = args.file.read_text(encoding="utf-8")
    refs = references(text)
    lalr._lark()  # the tables, once, outside the measurement
    gc.disable()  # as the command line runs the front end
    t_floor = _cpu(lambda: floor(text), args.repeat)
    t_lark = _cpu(lambda: lark_parse(text, str(args.file)), args.repeat)
    t_parse = _cpu(lambda: syntax.parse_module(text, str(args.file), Diagnostics()), args.repeat)
    t_check = _cpu(lambda: check(str(args.file)), args.repeat)
    print(f"{args.file.name}: {refs} file references")
    print(f"  floor {t_floor:7.3f} s   lark parse {t_lark:7.3f} s ({t_lark / t_floor:.2f}x the floor)"
          f"   parse {t_parse:7.3f} s ({t_parse / t_floor:.2f}x the floor, {t_lark / t_parse:.1f}x faster than lark's)"
          f"   check {t_check:7.3f} s (parse {100 * t_parse / t_check:.0f}%)")
    if args.memory:
        for name, action in (("", check), ("load: ", load)):
            gc.collect()
            tracemalloc.start()
            result = action(str(args.file))
            _, peak = tracemalloc.get_traced_memory()
            del result
            tracemalloc.stop()
            print(f"  {name}traced peak {peak / 2**20:7.1f} MiB   {peak / max(refs, 1):7.0f} B per file reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
