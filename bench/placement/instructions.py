"""Instructions `place()` executes, as valgrind's cachegrind counts them.

    python bench/placement/instructions.py                      # SRASearch and Montage, 20,000 tasks, medium and plentiful
    python bench/placement/instructions.py --against 9a4f4f1    # the same for another revision, side by side
    python bench/placement/instructions.py --workflows montage --sizes 5000 --capacity medium

The count is the same whatever else the machine runs. CPU seconds of the
same code move by 20% with the hour on this shared machine
(docs/benchmarks.md), so a change to placement is judged by this count,
and the CPU bench (timing.py) says where the targets stand.

Each instance is generated once, by this checkout, and pickled. A child
process under cachegrind (`--cache-sim=no`, PYTHONHASHSEED=0) unpickles
it, places it, and ends with os._exit: the plan is not freed, as `mlc plan`
exits with it alive. A child that only unpickles is counted as well and
subtracted, and the rest is `place()`. Every tree is byte-compiled first:
a tree that Python must compile on every run counts about 0.3 G more.
`--against` exports a revision's compiler with `git archive`. Its IR must
read this checkout's pickle. About 50x slower than the CPU bench: a
20,000-task instance takes a minute or two per tree.
"""

from __future__ import annotations

import argparse
import compileall
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import workflows  # noqa: E402
from plan_vs_check import instructions  # noqa: E402  (one cachegrind run, counted)

SEED = 1  # as timing.py

# The child: the tree to import from, the pickled experiment, and whether
# to place it or only to load it.
CHILD = """
import os, pickle, sys
sys.path.insert(0, sys.argv[1])
from compiler.placement import place
with open(sys.argv[2], "rb") as f:
    experiment = pickle.load(f)
if sys.argv[3] == "place":
    place(experiment)
os._exit(0)
"""


def exported(revision: str, into: Path) -> Path:
    """The compiler of `revision`, in a directory of its own."""
    archive = subprocess.run(["git", "archive", revision, "compiler"], cwd=ROOT, capture_output=True, check=False)
    if archive.returncode:
        raise SystemExit(f"git archive {revision} failed:\n{archive.stderr.decode()}")
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def count(tree: Path, experiment: Path) -> float:
    """Instructions of place() on the pickled experiment, in G."""
    run = [sys.executable, "-c", CHILD, str(tree), str(experiment)]
    return (instructions(run + ["place"], ROOT) - instructions(run + ["load"], ROOT)) / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", nargs="+", default=["srasearch", "montage"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[20000])
    parser.add_argument("--capacity", nargs="+", default=["medium", "plentiful"], choices=sorted(workflows.CAPACITY))
    parser.add_argument("--against", metavar="REVISION", help="also count a revision's compiler (git archive)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlc-instructions-") as work:
        trees = [("this checkout", ROOT)]
        if args.against:
            trees.append((args.against, exported(args.against, Path(work) / "against")))
        for _, tree in trees:
            compileall.compile_dir(str(tree / "compiler"), quiet=1)
        names = " | ".join(name for name, _ in reversed(trees))
        print(f"| instance | {names} |" + (" change |" if len(trees) > 1 else ""))
        print("| --- |" + " ---: |" * (len(trees) + (len(trees) > 1)))
        for workflow in args.workflows:
            for size in args.sizes:
                for capacity in args.capacity:
                    experiment = Path(work) / f"{workflow}-{size}-{capacity}.pickle"
                    with experiment.open("wb") as f:
                        pickle.dump(workflows.experiment(workflows.generate(workflow, size, SEED), capacity, 1.0), f)
                    counts = [count(tree, experiment) for _, tree in reversed(trees)]
                    cells = " | ".join(f"{c:.3f} G" for c in counts)
                    change = f" {100 * (counts[-1] / counts[0] - 1):+.1f}% |" if len(counts) > 1 else ""
                    print(f"| {workflow} {size:,} {capacity} | {cells} |{change}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
