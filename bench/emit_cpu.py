#!/usr/bin/env python3
"""CPU time of code generation alone: load and place an experiment, then
time `compiler.backends.emit` on it (no writing). Prints one JSON object.

    PYTHONPATH=. python bench/emit_cpu.py FILE.mlx"""

from __future__ import annotations

import json
import sys
import time

from compiler.backends import emit
from compiler.frontend import load
from compiler.placement import place


def main(path: str) -> int:
    experiment, diags, _ = load(path)
    if experiment is None:
        print(f"{path}: does not check: {diags.sorted()}", file=sys.stderr)
        return 1
    plan = place(experiment)
    cpu, wall = time.process_time(), time.perf_counter()
    files = emit(experiment, plan)
    print(json.dumps({"cpu_seconds": time.process_time() - cpu, "seconds": time.perf_counter() - wall,
                      "files": len(files)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
