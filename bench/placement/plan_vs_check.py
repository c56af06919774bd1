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
"""

from __future__ import annotations

import argparse
import compileall
import os
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
    args = parser.parse_args()
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
            times["check"].append(cpu(mlc + ["check", w.mlx.name], env_cwd))
            times["plan"].append(cpu(mlc + ["plan", "--no-history", w.mlx.name], env_cwd))
    check, plan = min(times["check"]), min(times["plan"])
    print(f"| workflow | tasks | sites | mlc check CPU (s) | mlc plan CPU (s) | placing adds | ratio to check |\n"
          f"| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
          f"| {args.recipe} | {w.tasks:,} | 3 | {check:.2f} | {plan:.2f} | {plan - check:.2f} | "
          f"{(plan - check) / check:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
