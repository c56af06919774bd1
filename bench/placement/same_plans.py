"""Do two compilers place the bench instances identically? A check for
placement speed-ups, which must never change a plan.

    python bench/placement/same_plans.py --save /tmp/plans.json        # before the change
    python bench/placement/same_plans.py --against /tmp/plans.json     # after: exit 1 on any difference
    MLC_BENCH_CODE=/tmp/old python bench/placement/same_plans.py --save /tmp/plans.json   # another checkout's

Each instance (workflow x size x capacity x objective) is placed and its
Plan serialised to JSON (the bytes `mlc plan` and the generators read);
the SHA-256 of those bytes is kept per instance.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [os.environ.get("MLC_BENCH_CODE", str(HERE.parent.parent)), str(HERE)]

import workflows  # noqa: E402

from compiler.ir import Objective  # noqa: E402
from compiler.placement import place  # noqa: E402

OBJECTIVES = {
    "makespan": Objective(),
    "cost": Objective(kind="cost"),
    "weighted": Objective(kind="weighted", time_weight=1.0, cost_weight=1.0),
    "deadline": Objective(kind="cost", deadline=1e5),
    "budget": Objective(budget=50.0),
}


def digests(names: list[str], sizes: list[int], capacities: list[str], objectives: list[str]) -> dict[str, str]:
    found = {}
    for name in names:
        for size in sizes:
            data = workflows.generate(name, size, 1)
            for capacity in capacities:
                exp = workflows.experiment(data, capacity, 1.0)
                for objective in objectives:
                    key = f"{name}-{size}-{capacity}-{objective}"
                    try:
                        text = place(exp, OBJECTIVES[objective]).model_dump_json()
                    except Exception as error:  # noqa: BLE001 - an error is an outcome to compare too
                        text = f"{type(error).__name__}: {error}"
                    found[key] = hashlib.sha256(text.encode()).hexdigest()
                    print(key, found[key][:12], file=sys.stderr, flush=True)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", nargs="+", default=["montage", "srasearch", "epigenomics", "cycles"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 400, 1000])
    parser.add_argument("--capacity", nargs="+", default=sorted(workflows.CAPACITY), choices=sorted(workflows.CAPACITY))
    parser.add_argument("--objectives", nargs="+", default=sorted(OBJECTIVES), choices=sorted(OBJECTIVES))
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--against", type=Path)
    args = parser.parse_args()
    found = digests(args.workflows, args.sizes, args.capacity, args.objectives)
    if args.save:
        args.save.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
        return 0
    expected = json.loads(args.against.read_text())
    differ = sorted(k for k in found if k in expected and found[k] != expected[k])
    missing = sorted(k for k in found if k not in expected)
    for key in differ:
        print(f"DIFFERENT {key}")
    for key in missing:
        print(f"not in {args.against}: {key}")
    print(f"{len(found) - len(differ) - len(missing)} identical, {len(differ)} different, {len(missing)} not compared")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
