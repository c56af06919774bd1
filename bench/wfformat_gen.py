#!/usr/bin/env python3
"""Generate WfFormat instances with WfCommons for the benchmarks.

    python bench/wfformat_gen.py                      # every recipe at 200, 1000, 5000 tasks
    python bench/wfformat_gen.py --recipes montage --sizes 1000 --force

Instances go to bench/.cache/wfformat/<recipe>-<tasks>.json (the cache folder
ignores itself through its own .gitignore). An existing file is kept unless
--force. Generation is reproducible: `random` and `numpy` are seeded per
instance, and so are the UUIDs WfCommons names files by. Prints how long each
instance took to generate.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache" / "wfformat"

# Benchmark name -> WfCommons recipe class (in wfcommons.wfchef.recipes).
RECIPES = {
    "montage": "MontageRecipe",
    "epigenomics": "EpigenomicsRecipe",
    "1000genome": "GenomeRecipe",
    "cycles": "CyclesRecipe",
    "soykb": "SoykbRecipe",
    "blast": "BlastRecipe",
    "bwa": "BwaRecipe",
    "seismology": "SeismologyRecipe",
    "srasearch": "SrasearchRecipe",
}
SIZES = (200, 1000, 5000)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed `random` and `numpy`, and make uuid.uuid4 draw from a seeded
    generator, for the duration of one generation."""
    import numpy

    random.seed(seed)
    numpy.random.seed(seed)
    source = random.Random(seed)
    original = uuid.uuid4
    uuid.uuid4 = lambda: uuid.UUID(int=source.getrandbits(128), version=4)
    try:
        yield
    finally:
        uuid.uuid4 = original


def generate(recipe: str, tasks: int, seed: int, path: Path) -> float:
    """Write one instance; returns the seconds generation took."""
    from wfcommons.wfchef import recipes
    from wfcommons.wfgen import WorkflowGenerator

    recipe_class = getattr(recipes, RECIPES[recipe])
    started = time.perf_counter()
    with seeded(seed):
        workflow = WorkflowGenerator(recipe_class.from_num_tasks(tasks)).build_workflow()
        workflow.write_json(path)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", nargs="+", choices=sorted(RECIPES), default=list(RECIPES))
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=CACHE)
    parser.add_argument("--force", action="store_true", help="regenerate existing instances")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / ".gitignore").write_text("*\n")  # generated data stays out of git
    failed = 0
    for recipe in args.recipes:
        for tasks in args.sizes:
            path = args.out / f"{recipe}-{tasks}.json"
            if path.exists() and not args.force:
                print(f"{path.name:28} cached")
                continue
            try:
                seconds = generate(recipe, tasks, args.seed, path)
            except ValueError as error:  # below the recipe's smallest workflow
                print(f"{path.name:28} skipped: {error}", file=sys.stderr)
                failed += 1
                continue
            print(f"{path.name:28} {seconds:8.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
