"""What placing adds to checking: CPU seconds of `mlc plan` against `mlc
check` of the same file (issue 19: "placing a 3,000-task Montage over a
three-site catalogue adds at most 0.25x the CPU time of checking it").

    python bench/placement/plan_vs_check.py                     # Montage, 3,000 tasks, 5 runs each
    python bench/placement/plan_vs_check.py --recipe srasearch --size 5000 --repeat 5
    MLC_BENCH_CODE=/tmp/old python bench/placement/plan_vs_check.py   # another checkout's compiler: a "before"

The workflow comes from WfCommons through `mlc import wfformat`, as for
bench/run.py (bench/suite/workloads.py); its catalogue is replaced by three
sites: the workstation, a Slurm cluster (two partitions) and a Kubernetes
cluster with a staging bucket, all linked. Each command is a fresh process
(the user's CPU time of the child, as os.wait4 reports it: the machine is
shared, wall clocks are not comparable); a number is the least of --repeat
runs, check and plan alternating: on a shared machine a run's CPU time only
grows with the load beside it (caches, frequency), so the least is the run
least disturbed, as timeit takes it. The medians of three runs of the same
code within ten minutes gave 0.31x, 0.69x and 0.79x. The compiler is
byte-compiled first, as an installed copy is. `plan` runs the checks too, so
placing adds plan - check.

    python bench/placement/plan_vs_check.py --instructions --repeat 1

counts the instructions each run executes instead (valgrind's cachegrind,
`--cache-sim=no`; PYTHONHASHSEED=0): about 50x slower, but the same count
whatever else the machine runs, where CPU seconds of the same code vary by
2x within an hour on this shared machine. Instructions are not time (the
two parts need not run at the same instructions per cycle): the CPU ratio
is the target, the count the check that a change moved it.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from compiler.interop import SITES_FILE  # noqa: E402
from suite.workloads import prepare, separate  # noqa: E402


def three_sites(two: str) -> str:
    """The suite's catalogue (workstation and a Slurm cluster) plus a
    Kubernetes cluster, linked to both."""
    return two + """
site cloud : kubernetes {
  context = "bench"
  namespace = "bench"
  staging = "s3://bench-staging"
  pool cpu {
    nodes = 16; cpus = 48; memory = 384GiB; price = 0.4/h
  }
}

link cloud <-> cluster { bandwidth = 10Gbps; latency = 20ms }
link cloud <-> workstation { bandwidth = 100Mbps; latency = 30ms }
"""


CACHEGRIND = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]


def instructions(argv: list[str], cwd: Path) -> float:
    """Instructions one run of argv executes, as cachegrind counts them."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    env = dict(os.environ, PYTHONHASHSEED="0")  # the same dict and set layouts every run
    done = subprocess.run(CACHEGRIND + argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr}")
    return float(found.group(1).replace(",", ""))


def cpu(argv: list[str], cwd: Path) -> float:
    """User plus system CPU seconds of one run of argv."""
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    error = child.stderr.read().decode()
    child.stderr.close()
    if child.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}):\n{error}")
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="montage")
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under valgrind instead of CPU seconds (deterministic, ~50x slower)")
    args = parser.parse_args()
    measure = instructions if args.instructions else cpu
    with tempfile.TemporaryDirectory() as root:
        with separate() as apart:  # not in this process, the parent of the measured runs
            w = apart.submit(prepare, args.recipe, args.size, Path(root)).result()
        catalogue = w.mlx.parent / SITES_FILE
        catalogue.write_text(three_sites(catalogue.read_text()), encoding="utf-8")
        mlc = [sys.executable, "-m", "compiler.cli"]
        env_cwd = w.mlx.parent
        # The compiler measured: this checkout's, unless MLC_BENCH_CODE names another.
        code = os.environ.get("MLC_BENCH_CODE", str(ROOT))
        os.environ["PYTHONPATH"] = code + os.pathsep + os.environ.get("PYTHONPATH", "")
        compileall.compile_dir(os.path.join(code, "compiler"), quiet=1)
        times: dict[str, list[float]] = {"check": [], "plan": []}
        for _ in range(args.repeat):  # interleaved: load changes hit both alike
            times["check"].append(measure(mlc + ["check", w.mlx.name], env_cwd))
            times["plan"].append(measure(mlc + ["plan", "--no-history", w.mlx.name], env_cwd))
    check, plan = min(times["check"]), min(times["plan"])
    if args.instructions:
        unit, check, plan, digits = "instructions (G)", check / 1e9, plan / 1e9, 3
    else:
        unit, digits = "CPU (s)", 2
    print(f"| workflow | tasks | sites | mlc check {unit} | mlc plan {unit} | placing adds | ratio to check |\n"
          f"| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
          f"| {args.recipe} | {w.tasks:,} | 3 | {check:.{digits}f} | {plan:.{digits}f} | {plan - check:.{digits}f} | "
          f"{(plan - check) / check:.3f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
