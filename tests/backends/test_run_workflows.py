"""The generated workflows, run for real: `snakemake --cores 2` on all-local
experiments, a local service started and stopped, and a Slurm site driven
through a stand-in `sbatch` (and `apptainer`) on PATH."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import urllib.request
from pathlib import Path

import builders
import checks

from compiler import ir
from compiler.backends import emit, local
from compiler.sites import reach

FAKE_SBATCH = r"""#!/usr/bin/env bash
# Stand-in for `sbatch --parsable SCRIPT`: runs each array task of SCRIPT
# right here before returning (so the job has left the queue when fake
# squeue is asked), with its logs where Slurm would put them. Like sbatch,
# it succeeds whatever the tasks do: they report through their status files.
set -uo pipefail
script=${*: -1}
array=$(sed -n 's/^#SBATCH --array=//p' "$script")
export SLURM_SUBMIT_DIR=$PWD SLURM_JOB_ID=4242
mkdir -p logs
if [[ -z $array ]]; then
  bash "$script" >logs/job-4242.out 2>&1
fi
for range in ${array//,/ }; do
  for ((i = ${range%-*}; i <= ${range#*-}; i++)); do
    SLURM_ARRAY_JOB_ID=4242 SLURM_ARRAY_TASK_ID=$i bash "$script" >"logs/job-4242_$i.out" 2>&1
  done
done
echo 4242
"""

# Stand-in for `squeue -h -j JOB -o %T`: the fake jobs have always ended.
FAKE_SQUEUE = "#!/bin/sh\nexit 0\n"

FAKE_SSH = r"""#!/usr/bin/env bash
# Stand-in for `ssh [-o OPTION]... [--] HOST COMMAND...`: runs COMMAND with
# sh in $HOME, as sshd would on the login host.
while [[ $1 == -* ]]; do
  case $1 in
    -o) shift 2 ;;
    --) shift; break ;;
    *) shift ;;
  esac
done
shift
cd "$HOME" && exec sh -c "$*"
"""

FAKE_APPTAINER = r"""#!/usr/bin/env bash
# Stand-in for `apptainer pull SIF REFERENCE` and
# `apptainer exec [--nv] [--bind DIR] IMAGE COMMAND...`.
if [[ $1 == pull ]]; then
  echo "$3" >> "$FAKE_PULLS"
  echo "image $3" > "$2"
  exit
fi
shift
while [[ $1 == --* ]]; do [[ $1 == --bind ]] && shift; shift; done
echo "$1" >> "$FAKE_IMAGES"
shift
exec "$@"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_quickstart_runs_and_resumes(tmp_path):
    folder = checks.write(emit(*builders.quickstart()), tmp_path / "quickstart")
    checks.snakemake(folder, "--cores", "2")
    best = (folder / "work/laptop/best.txt").read_text()
    assert best == "3.0 0\n"
    again = checks.snakemake(folder, "--cores", "2")
    assert "Nothing to be done" in again.stdout + again.stderr


def _service_experiment(port: int) -> tuple[ir.Experiment, ir.Plan]:
    page = builders.instance(
        "page", [builders.text("echo hello > "), builders.port("out", "page")],
        outputs=[builders.output("page", "site/index.html")],
    )
    web = ir.Service(
        name="web", command=[builders.text(f"exec python3 -m http.server {port} --bind 127.0.0.1 --directory site")],
        resources=ir.Resources(), port=port, health="/index.html", after=["page"], span=builders.span(20),
    )
    stages = [ir.StageGroup(name="page", instances=["page"], span=builders.span(12))]
    exp = builders.experiment("web", [builders.local_site()], [page], stages, services=[web])
    return exp, builders.plan(exp, {"page": "laptop.default", "web": "laptop.default"})


def test_local_service_starts_ready_and_stops(tmp_path):
    port = _free_port()
    folder = checks.write(emit(*_service_experiment(port)), tmp_path / "web")
    script = local.script_path("laptop", "web")
    try:
        checks.snakemake(folder, "--cores", "2")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5) as reply:
            assert reply.read() == b"hello\n"
        # Starting again is harmless: the live pid file says it runs already.
        subprocess.run(["bash", script, "start"], cwd=folder, check=True, capture_output=True)
    finally:
        subprocess.run(["bash", script, "stop"], cwd=folder, check=True)
    status = subprocess.run(["bash", script, "status"], cwd=folder, capture_output=True, text=True, check=False)
    assert status.returncode == 1 and status.stdout.strip() == "stopped"


def test_a_local_service_restarts_on_the_same_port_when_its_inputs_change(tmp_path):
    port = _free_port()
    folder = checks.write(emit(*_service_experiment(port)), tmp_path / "web")
    script = local.script_path("laptop", "web")
    pid_files = lambda: sorted(folder.glob("work/*/.mlc/run/*.pid"))  # noqa: E731
    try:
        checks.snakemake(folder, "--cores", "2")
        (first,) = pid_files()
        before = first.read_text()
        (folder / ".mlc" / "done" / "page").unlink()  # the page is made anew: a new input
        checks.snakemake(folder, "--cores", "2")
        (again,) = pid_files()
        assert again.read_text() != before, "the service kept its old process"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5) as reply:
            assert reply.read() == b"hello\n"
    finally:
        subprocess.run(["bash", script, "stop"], cwd=folder, check=True)


def _slurm_experiment(
    scratch: Path | str, fail: bool = False, login: str | None = None, numbers: str = "data/numbers.txt",
) -> tuple[ir.Experiment, ir.Plan]:
    """Local data, a two-member sweep on a Slurm site (without a login host,
    files move by local rsync; with one, over ssh), the results back on the
    local site."""
    make = builders.instance(
        "make", [builders.text("seq 1 5 > "), builders.port("out", "numbers")],
        outputs=[builders.output("numbers", numbers)],
    )
    scales = [
        builders.instance(
            f"scale[k={k}]",
            [builders.text(f"{'false && ' if fail and k == 3 else ''}awk '{{print $1 * {k}}}' "),
             builders.port("in", "numbers"), builders.text(" > "), builders.port("out", "scaled")],
            stage="scale", index=i, sweep={"k": k}, image="alpine:3",
            inputs=[ir.Input(name="numbers", outputs=[("make", "numbers")], span=builders.span(14))],
            outputs=[builders.output("scaled", f"scaled/{k}.txt")],
        )
        for i, k in enumerate([2, 3])
    ]
    total = builders.instance(
        "total", [builders.text("cat "), builders.port("in", "scaled"), builders.text(" | paste -sd+ | bc > "),
                  builders.port("out", "sum")],
        inputs=[ir.Input(name="scaled", outputs=[(s.id, "scaled") for s in scales], span=builders.span(16))],
        outputs=[builders.output("sum", "sum.txt")],
    )
    hpc = builders.slurm_site(login=login)
    hpc = hpc.model_copy(update={"slurm": hpc.slurm.model_copy(update={"scratch": str(scratch)})})
    stages = [
        ir.StageGroup(name="make", instances=["make"], span=builders.span(12)),
        ir.StageGroup(name="scale", instances=[s.id for s in scales], sweep_axes=["k"], span=builders.span(14)),
        ir.StageGroup(name="total", instances=["total"], span=builders.span(16)),
    ]
    exp = builders.experiment("arith", [builders.local_site(), hpc], [make, *scales, total], stages)
    transfers = [
        ir.Transfer(id="to_hpc__make_numbers", source_site="laptop", target_site="hpc", what=ir.OutputRef(instance="make", output="numbers"),
                    path=numbers, target_path=numbers, consumers=[s.id for s in scales],
                    route=reach.route(exp, "laptop", "hpc", numbers)),
        *[
            ir.Transfer(id=f"to_laptop__scale_{k}", source_site="hpc", target_site="laptop",
                        what=ir.OutputRef(instance=s.id, output="scaled"), path=f"scaled/{k}.txt", target_path=f"scaled/{k}.txt",
                        consumers=["total"], route=reach.route(exp, "hpc", "laptop", f"scaled/{k}.txt"))
            for k, s in zip([2, 3], scales)
        ],
    ]
    placements = {"make": "laptop.default", **{s.id: "hpc.cpu" for s in scales}, "total": "laptop.default"}
    return exp, builders.plan(exp, placements, transfers)


def _fake_cluster(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fakes = [("sbatch", FAKE_SBATCH), ("squeue", FAKE_SQUEUE), ("apptainer", FAKE_APPTAINER), ("ssh", FAKE_SSH)]
    for name, text in fakes:
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_IMAGES": str(tmp_path / "images"),
            "FAKE_PULLS": str(tmp_path / "pulls")}


def _run(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["snakemake", "--cores", "2"], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_slurm_array_and_transfers_run_through_sbatch(tmp_path):
    scratch = tmp_path / "scratch"
    folder = checks.write(emit(*_slurm_experiment(scratch)), tmp_path / "arith")
    result = _run(folder, _fake_cluster(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (folder / "work/laptop/sum.txt").read_text() == "75\n"  # (2 + 3) * (1 + ... + 5)
    assert (scratch / "arith/scaled/3.txt").read_text().split() == ["3", "6", "9", "12", "15"]
    # Pulled once, on the login side, into the site's cache; each task runs the .sif.
    assert (tmp_path / "pulls").read_text() == "docker://alpine:3\n"
    (sif,) = (scratch / ".mlc-cache" / "images").glob("*.sif")
    assert sif.name.startswith("alpine_3-") and sif.read_text() == "image docker://alpine:3\n"
    assert (tmp_path / "images").read_text() == f"{sif}\n" * 2
    record = (folder / ".mlc/jobs/scale").read_text()
    digest = hashlib.sha256((folder / "slurm/hpc/scale.sbatch").read_bytes()).hexdigest()
    assert record == (f"kind=slurm\nsite=hpc\nid=4242\nlogin=\nroot={scratch / 'arith'}\nscript={digest}\n"
                      "array=0-1\nwatched=ended\n")


def test_a_failed_slurm_job_fails_its_rule_and_shows_the_log(tmp_path):
    folder = checks.write(emit(*_slurm_experiment(tmp_path / "scratch", fail=True)), tmp_path / "arith")
    result = _run(folder, _fake_cluster(tmp_path))
    assert result.returncode != 0
    log = (folder / ".mlc/logs/scale.log").read_text()
    assert "Slurm job 4242 (scale.sbatch) failed with status 1 (failed tasks: 4242_1)" in log
    assert "==> logs/job-4242_1.out <==" in log
    assert "logs/job-4242_0.out" not in log  # only the failed task's log
    assert not (folder / ".mlc/done/scale").exists()


def test_a_login_host_is_reached_over_ssh_with_relative_scratch_and_odd_paths(tmp_path):
    """The same workflow through a login host (a stand-in ssh running
    commands in a fake home): the script is copied and submitted remotely,
    data moves with rsync -e ssh, a relative scratch lives in the home
    directory, and a path with quotes and spaces survives the remote shell."""
    home = tmp_path / "home"
    home.mkdir()
    numbers = "data/it's a \"list\" $(x).txt"
    exp, plan = _slurm_experiment("scratch", login="login.example", numbers=numbers)
    folder = checks.write(emit(exp, plan), tmp_path / "arith")
    result = _run(folder, {**_fake_cluster(tmp_path), "HOME": str(home)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert (folder / "work/laptop/sum.txt").read_text() == "75\n"
    assert (home / "scratch/arith" / numbers).read_text().split() == ["1", "2", "3", "4", "5"]
    assert (home / "scratch/arith/.mlc/slurm/scale.sbatch").is_file()
    assert "login=login.example" in (folder / ".mlc/jobs/scale").read_text()


FAKE_AWS = r"""#!/usr/bin/env bash
# Stand-in for `aws s3 sync|cp [--only-show-errors] -- SOURCE TARGET`: records
# the call and makes TARGET as the real one would.
echo "$*" >> "$FAKE_AWS_CALLS"
target=${*: -1}
if [[ $2 == sync ]]; then mkdir -p "$target" && echo data > "$target/part-0"; else echo data > "$target"; fi
"""


def test_an_object_store_data_set_is_synced_into_the_local_work_tree(tmp_path):
    exp, plan = builders.multisite()
    folder = checks.write(emit(exp, plan), tmp_path / "multi")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "aws").write_text(FAKE_AWS)
    (fake / "aws").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "FAKE_AWS_CALLS": str(tmp_path / "calls"),
           "MLC_TARGET_ROOT": "w"}
    subprocess.run(["bash", "transfers/to_laptop__dataset_coco.sh"], cwd=folder, env=env, check=True)
    assert (tmp_path / "calls").read_text() == "s3 sync --only-show-errors -- s3://bucket/coco w/datasets/coco\n"
    assert (folder / "w/datasets/coco/part-0").read_text() == "data\n"
