#!/usr/bin/env python3
"""`mlc check` of wide sweeps with fan-in (issue 19: the front end was
quadratic there), in fresh processes, CPU seconds (median of --repeat):

    python bench/fan_in.py                       # 4000, 8000 and 16000 members
    python bench/fan_in.py --members 4000 --repeat 1
    PYTHONPATH=/tmp/before python bench/fan_in.py   # another checkout's compiler

Two shapes per size: `gather`, sweeps of at most 8000 members (the limit is
10000 per stage) whose outputs one stage reads; and `paired`, as many
evaluations as trainings, each reading its own training through a
per-member reference (`train[i = i].out`), where the checkout knows them.
The numbers are in docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from suite.measure import run

PER_STAGE = 8000


def gather(members: int) -> str:
    """`members` sweep members in stages of at most PER_STAGE, all read by one stage."""
    stages, inputs, start = [], [], 0
    while start < members:
        count = min(PER_STAGE, members - start)
        name = f"member{len(stages)}"
        values = ", ".join(str(i) for i in range(start, start + count))  # a list: any checkout reads it
        stages.append(f'stage {name} for i in [{values}] {{\n'
                      f'  out value = file("{name}/${{i}}.txt")\n  run = "echo ${{i}} > ${{out.value}}"\n}}\n')
        inputs.append(f"  in {name} = {name}.value\n")
        start += count
    return "".join(stages) + 'stage total {\n' + "".join(inputs) + \
        '  out sum = file("total.txt")\n  run = "cat ${in.member0} > ${out.sum}"\n}\n'


def paired(members: int) -> str:
    """`members` trainings and as many evaluations, each reading its own."""
    members = min(members, PER_STAGE)
    return (f'stage train for i in range({members}) {{\n'
            '  out model = file("train/${i}.txt")\n  run = "echo ${i} > ${out.model}"\n}\n'
            f'stage eval for i in range({members}) {{\n'
            '  in model = train[i = i].model\n  out score = file("eval/${i}.txt")\n'
            '  run = "cat ${in.model} > ${out.score}"\n}\n')


SHAPES = {"gather": gather, "paired": paired}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=lambda t: [int(x) for x in t.split(",")], default=[4000, 8000, 16000])
    parser.add_argument("--shapes", type=lambda t: t.split(","), default=list(SHAPES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        for shape in args.shapes:
            for members in args.members:
                mlx = Path(work) / f"{shape}_{members}.mlx"
                mlx.write_text(SHAPES[shape](members), encoding="utf-8")
                runs = [run([sys.executable, "-m", "compiler.cli", "check", mlx.name], cwd=mlx.parent,
                            timeout=args.timeout, log=Path(work) / f"{mlx.stem}-{i}.log", env=dict(os.environ))
                        for i in range(args.repeat)]
                status = ",".join(sorted({r.status for r in runs}))
                cpu = statistics.median(r.cpu_seconds for r in runs)
                peak = statistics.median(r.peak_mib for r in runs)
                print(f"{shape:7} {members:6} members: {cpu:7.2f} s CPU  {peak:7.1f} MiB  {status}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
