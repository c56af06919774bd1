"""A service on a Slurm site, run through stand-ins for sbatch, squeue and
scancel that run each job as a background process on this machine: the
service job publishes its address once it answers, the sweep's jobs on the
same site read it at `${in.api}`, and the workflow cancels the service job
after the last of them. (tests/e2e/test_service.py does the same on the
real test cluster.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.services.test_local_run import CLIENT, SERVER, _free_port

ROOT = Path(__file__).resolve().parents[2]

# sbatch --parsable SCRIPT: the job runs in the background, in a session of
# its own; its pid is kept under $FAKE_SLURM so squeue and scancel find it.
FAKE_SBATCH = r"""#!/usr/bin/env bash
script=${*: -1}
mkdir -p "$FAKE_SLURM" logs
job=$(( $(ls "$FAKE_SLURM" | wc -l) + 5000 ))
name=$(sed -n 's/^#SBATCH --job-name=//p' "$script")
array=$(sed -n 's/^#SBATCH --array=//p' "$script")
export SLURM_SUBMIT_DIR=$PWD SLURM_JOB_ID=$job
if [[ -z $array ]]; then
  setsid bash "$script" >"logs/$name-$job.out" 2>"logs/$name-$job.err" </dev/null &
else
  setsid bash -c 'for ((i = ${1%-*}; i <= ${1#*-}; i++)); do
      SLURM_ARRAY_JOB_ID=$2 SLURM_ARRAY_TASK_ID=$i bash "$3" >"logs/$4-$2_$i.out" 2>&1
    done' _ "$array" "$job" "$script" "$name" </dev/null &
fi
echo $! >"$FAKE_SLURM/$job"
echo "$job"
"""
# squeue -h -j JOB -o %T: RUNNING while the job's process lives.
FAKE_SQUEUE = r"""#!/usr/bin/env bash
job=$3
if kill -0 "$(cat "$FAKE_SLURM/$job" 2>/dev/null)" 2>/dev/null; then echo RUNNING; fi
"""
# scancel JOB: TERM to the job's script, as Slurm sends it.
FAKE_SCANCEL = r"""#!/usr/bin/env bash
kill -TERM "$(cat "$FAKE_SLURM/$1")" 2>/dev/null || true
"""


def _source(port: int) -> str:
    return f'''
site hpc : slurm {{
  scratch = "scratch"
  partition gpu {{ nodes = 1; cpus = 4; memory = 8GiB }}
  partition cpu {{ nodes = 2; cpus = 4; memory = 8GiB }}
}}
service embed {{
  in server = file("server.py")
  run = "python3 ${{in.server}} {port}"
  port = {port}
  health = "/healthz"
  on = hpc.gpu
}}
stage shard for i in [0, 1, 2] {{
  in api = embed
  in client = file("client.py")
  out vector = file("vectors/${{i}}.txt")
  on = hpc.cpu
  run = "python3 ${{in.client}} ${{in.api}} ${{i}} > ${{out.vector}}"
}}
'''


def test_a_service_job_serves_the_sweep_and_is_cancelled_after_it(tmp_path):
    port = _free_port()
    (tmp_path / "exp.mlx").write_text(_source(port))
    home = tmp_path / "home"
    work = home / "scratch" / "exp"
    work.mkdir(parents=True)
    # Project files, beside the .mlx: shipped to the cluster's work root.
    (tmp_path / "server.py").write_text(SERVER.replace('"127.0.0.1"', '""'))  # a node serves every address
    (tmp_path / "client.py").write_text(CLIENT)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("squeue", FAKE_SQUEUE), ("scancel", FAKE_SCANCEL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(home),
           "FAKE_SLURM": str(tmp_path / "jobs")}
    run = subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(tmp_path / "exp.mlx"),
                          "-o", str(tmp_path / "out")], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    try:
        assert run.returncode == 0, run.stdout + run.stderr
        for i in range(3):
            assert (work / "vectors" / f"{i}.txt").read_text() == f"pong /shard/{i}\n"
        folder = tmp_path / "out" / "exp"
        record = (folder / ".mlc" / "jobs" / "embed").read_text()
        job = record.split("id=")[1].split()[0]
        pid = int((tmp_path / "jobs" / job).read_text())
        for _ in range(50):  # scancel sent TERM; the job ends
            if subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the service job still runs after the workflow ended")
        assert not (work / ".mlc" / "services" / "embed.url").exists()  # withdrawn with the job
        log = (folder / ".mlc" / "logs" / "embed.log").read_text()
        assert "service ready at http://" in log
    finally:
        for pid_file in (tmp_path / "jobs").glob("*"):
            subprocess.run(["kill", "-TERM", pid_file.read_text().strip()], capture_output=True)
