#!/usr/bin/env python3
"""slurmctld's load from waiting for jobs, before and after the site poller
(issue 16, item 2), written up in docs/benchmarks.md. Needs the Slurm test
cluster (.ci/slurm-up) and root (`sdiag -r`); not part of the tests.

    python bench/slurm_rpc.py                    # 50 jobs of 5 s, main vs this tree
    python bench/slurm_rpc.py --jobs 20 --seconds 3 --before main --modes after

Each mode compiles and runs (`mlc run --jobs N`) the same experiment: N
independent single jobs (not an array) on one Slurm site, each sleeping
--seconds. `before` uses mlc as of git revision --before (exported with `git
archive` into a temporary folder: the working tree is not touched), `after`
this tree. slurmctld's counters are reset (`sdiag -r`) just before the run
and read just after: REQUEST_JOB_INFO (squeue of several ids, or all jobs),
REQUEST_JOB_INFO_SINGLE (squeue -j of one id) and every RPC by message type.
The counters are the whole cluster's: run it when nothing else uses it.
Whatever happens, the run's jobs are cancelled at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRATCH = Path(os.environ.get("MLC_SLURM_SCRATCH", "/tmp/mlc-slurm-scratch"))
_RPC = re.compile(r"^\s+([A-Z_0-9]+)\s+\(\s*\d+\)\s+count:(\d+)")


def experiment(jobs: int, seconds: int) -> str:
    stages = "".join(f"""
stage s{i} {{
  out done = file("done/{i}.txt", size = 1KB)
  cpus = 1
  memory = 64MiB
  time = 5m
  estimate = {seconds}s
  on = cluster.cpu
  run = "sleep {seconds}; echo {i} > ${{out.done}}"
}}
""" for i in range(jobs))
    # More CPUs than the cluster has, so that every job's step waits at once
    # (most of them in Slurm's queue): the load the poller is about.
    return f"""
param scratch: str = "/tmp"
site cluster : slurm {{
  scratch = "${{scratch}}"
  partition cpu {{ nodes = 2  cpus = {max(2, jobs)}  memory = 64GiB }}
}}
experiment rpc {{ description = "{jobs} independent jobs of {seconds} s on one Slurm site" }}
""" + stages


def rpc_counts() -> dict[str, int]:
    """sdiag's counts by message type."""
    text = subprocess.run(["sdiag"], capture_output=True, text=True, check=True).stdout
    section = text.split("Remote Procedure Call statistics by message type", 1)[1]
    section = section.split("Remote Procedure Call statistics by user", 1)[0]
    return {m.group(1): int(m.group(2)) for m in map(_RPC.match, section.splitlines()) if m}


def cancel_under(root: Path) -> None:
    listed = subprocess.run(["squeue", "-h", "-o", "%i|%Z"], capture_output=True, text=True).stdout
    jobs = [line.split("|", 1)[0] for line in listed.splitlines()
            if line.partition("|")[2].startswith(str(root))]
    if jobs:
        subprocess.run(["scancel", *jobs], check=False)


def export(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def measure(tree: Path, jobs: int, seconds: int, work: Path) -> dict:
    source = work / "rpc.mlx"
    source.write_text(experiment(jobs, seconds))
    scratch = Path(tempfile.mkdtemp(prefix="bench-rpc-", dir=SCRATCH))
    scratch.chmod(0o777)
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(work / "out"),
               "-p", f"scratch={scratch}", "--jobs", str(jobs)]
    compiled = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", *command[4:-2]],
                              cwd=tree, env=env, capture_output=True, text=True)
    if compiled.returncode != 0:
        raise SystemExit(compiled.stdout + compiled.stderr)
    try:
        subprocess.run(["sdiag", "-r"], check=True, capture_output=True)
        start = time.monotonic()
        run = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
        wall = time.monotonic() - start
        counts = rpc_counts()
    finally:
        cancel_under(scratch)
    if run.returncode != 0:
        raise SystemExit(f"mlc run failed:\n{run.stdout}{run.stderr}")
    return {"wall_s": round(wall, 1), "total": sum(counts.values()),
            "REQUEST_JOB_INFO": counts.get("REQUEST_JOB_INFO", 0),
            "REQUEST_JOB_INFO_SINGLE": counts.get("REQUEST_JOB_INFO_SINGLE", 0),
            "REQUEST_SUBMIT_BATCH_JOB": counts.get("REQUEST_SUBMIT_BATCH_JOB", 0),
            "top": sorted(counts.items(), key=lambda item: -item[1])[:6]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--before", default="main", help="the git revision to compare with (default: main)")
    parser.add_argument("--modes", default="before,after")
    args = parser.parse_args()
    rows = []
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory(prefix=f"mlc-rpc-{mode}-") as folder:
            work = Path(folder)
            (work / "mlc").mkdir()
            tree = export(args.before, work / "mlc") if mode == "before" else REPO
            result = measure(tree, args.jobs, args.seconds, work)
            rows.append((mode, result))
            print(mode, result, flush=True)
    print(f"\n{args.jobs} jobs of {args.seconds} s, `mlc run --jobs {args.jobs}`:\n")
    print("| submit.sh | wall | REQUEST_JOB_INFO | REQUEST_JOB_INFO_SINGLE | REQUEST_SUBMIT_BATCH_JOB | all RPCs |")
    print("|---|---|---|---|---|---|")
    for mode, r in rows:
        name = f"`{args.before}` (squeue per step, 1/s)" if mode == "before" else "site poller"
        print(f"| {name} | {r['wall_s']} s | {r['REQUEST_JOB_INFO']} | {r['REQUEST_JOB_INFO_SINGLE']} "
              f"| {r['REQUEST_SUBMIT_BATCH_JOB']} | {r['total']} |")
    for mode, r in rows:
        print(f"\n{mode}, the most frequent: " + ", ".join(f"{name} {count}" for name, count in r["top"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
