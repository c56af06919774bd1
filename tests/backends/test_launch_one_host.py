"""Launched stages on a site that runs them on one machine (local, ssh):
the same MLC_* variables as on a cluster, srun's tasks started here, and
torchrun on one node (docs/codegen.md, "Multi-node stages")."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

from compiler import frontend, placement
from compiler.backends import emit

SOURCE = """
site ws : local { cpus = 4; memory = 8GiB }
stage tasks {
  out seen = dir("seen")
  launch = srun
  tasks_per_node = 2
  run = "mkdir -p ${out.seen} && echo \\"$MLC_NODE_RANK/$MLC_LOCAL_RANK $MLC_NNODES $MLC_MASTER_ADDR:$MLC_MASTER_PORT\\" > ${out.seen}/task-$MLC_LOCAL_RANK.txt"
}
stage train {
  launch = torchrun
  run = "train.py --epochs 1"
}
stage plain { run = "true" }
stage one_fails { launch = srun; tasks_per_node = 2; run = "test $MLC_LOCAL_RANK = 0" }
"""


def _files(tmp_path: Path) -> dict[str, str]:
    source = tmp_path / "exp.mlx"
    source.write_text(textwrap.dedent(SOURCE))
    experiment, diagnostics, _ = frontend.load(str(source), {})
    assert experiment is not None, [d.message for d in diagnostics.items]
    return emit(experiment, placement.place(experiment))


def _script(tmp_path: Path, name: str) -> Path:
    """The stage's script where the folder has it, beside the step cache it runs through."""
    files = _files(tmp_path)
    for path in (f"local/ws/{name}.sh", "local/step_cache.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(files[path])
    return tmp_path / f"local/ws/{name}.sh"


def test_srun_tasks_run_side_by_side_and_see_the_rendezvous(tmp_path: Path):
    script = _script(tmp_path, "tasks")
    work = tmp_path / "work"
    done = subprocess.run(["bash", str(script)], env={**os.environ, "MLC_WORKDIR": str(work)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = sorted(p.read_text() for p in (work / "seen").iterdir())
    assert seen == ["0/0 1 127.0.0.1:29500\n", "0/1 1 127.0.0.1:29500\n"]


def test_a_failing_task_fails_the_stage(tmp_path: Path):
    script = _script(tmp_path, "one_fails")
    done = subprocess.run(["bash", str(script)], env={**os.environ, "MLC_WORKDIR": str(tmp_path / "w")},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1


def test_torchrun_on_one_host_is_one_node_with_this_host_as_master(tmp_path: Path):
    files = _files(tmp_path)
    assert ("torchrun --nnodes=1 --nproc_per_node=1 --node_rank=\"$MLC_NODE_RANK\" --rdzv_id=mlc "
            "--rdzv_backend=c10d --rdzv_endpoint=\"$MLC_MASTER_ADDR:$MLC_MASTER_PORT\" train.py --epochs 1"
            ) in files["local/ws/train.sh"]
    assert "MLC_" not in files["local/ws/plain.sh"].split("command=", 1)[1].split("\n", 1)[0]
