#!/usr/bin/env python3
"""Start-up: what every call of `mlc` pays before it does anything (editors,
pre-commit hooks, the language server), next to a bare `python -c pass`.

    python bench/startup.py                         # this checkout, 10 runs each
    PYTHONPATH=/tmp/before python bench/startup.py  # another checkout
    python bench/startup.py --importtime            # the slowest imports of each command

Each command runs in a fresh process with the checkout first on PYTHONPATH
and byte code written and read as an installed package would (a first run
per command warms it: PYTHONDONTWRITEBYTECODE is dropped). A number is the
median wall and CPU time (user + system) of --repeat runs."""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MLC = [sys.executable, "-c", "import sys; from compiler.cli import main; sys.exit(main())"]


def commands(out: str) -> dict[str, list[str]]:
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "mlc --version": [*MLC, "--version"],
        "mlc check examples/quickstart.mlx": [*MLC, "check", "examples/quickstart.mlx"],
        "mlc compile examples/quickstart.mlx": [*MLC, "compile", "examples/quickstart.mlx", "-o", out],
    }


# The checkout measured: the first entry of PYTHONPATH when given (another
# checkout), else this one. Commands run in it (`-c` puts the folder first).
ROOT = Path(os.environ["PYTHONPATH"].split(os.pathsep)[0]) if os.environ.get("PYTHONPATH") else REPO


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _once(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=_env(), check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(repeat: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlc-startup-") as out:
        for name, argv in commands(out).items():
            _once(argv)  # warm: byte code, the file system cache
            runs = [_once(argv) for _ in range(repeat)]
            rows.append({"command": name, "runs": repeat, "wall_s": statistics.median(w for w, _ in runs),
                         "cpu_s": statistics.median(c for _, c in runs)})
    return rows


HEAVY = ("kubernetes", "scipy", "numpy", "networkx", "snakemake", "pygls", "jinja2", "rocrate", "pydantic", "lark")


def importtime(argv: list[str], top: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """From `python -X importtime`: the `top` slowest imports of a run
    (cumulative; the top level and the level below), and the heavy
    third-party packages it imports at all (HEAVY, cumulative)."""
    result = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], cwd=ROOT, env=_env(),
                            capture_output=True, text=True, check=True)
    rows, heavy = [], {}
    for line in result.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if not m:
            continue
        seconds = int(m.group(1)) / 1e6
        if len(m.group(2)) <= 3:
            rows.append((m.group(3), seconds))
        if m.group(3) in HEAVY:
            heavy[m.group(3)] = seconds
    return sorted(rows, key=lambda r: -r[1])[:top], sorted(heavy.items(), key=lambda r: -r[1])


def table(rows: list[dict]) -> str:
    base = next(r for r in rows if r["command"] == "python -c pass")
    # Both ratios: on a loaded machine wall time mostly measures the others' work.
    lines = ["| command | runs | wall (s) | CPU (s) | wall / bare python | CPU / bare python |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| `{r['command']}` | {r['runs']} | {r['wall_s']:.3f} | {r['cpu_s']:.3f} | "
                     f"{r['wall_s'] / base['wall_s']:.1f}x | {r['cpu_s'] / base['cpu_s']:.1f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--importtime", action="store_true", help="print the slowest imports instead")
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    if args.importtime:
        with tempfile.TemporaryDirectory(prefix="mlc-startup-") as out:
            for name, command in commands(out).items():
                if name != "python -c pass":
                    importtime(command, args.top)  # warm the byte code
                    slowest, heavy = importtime(command, args.top)
                    print(f"{name}:\n  slowest: " + ", ".join(f"{mod} {s * 1000:.0f} ms" for mod, s in slowest)
                          + "\n  heavy: " + (", ".join(f"{mod} {s * 1000:.0f} ms" for mod, s in heavy) or "none"))
        return 0
    rows = measure(args.repeat)
    print(json.dumps(rows, indent=1) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
