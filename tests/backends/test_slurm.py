"""#SBATCH directives from the IR and the partition."""

from __future__ import annotations

import shlex
import subprocess

import builders
import pytest

from compiler import ir
from compiler.backends import BackendError, emit, slurm, slurm_images


def _directives(exp, plan, site="hpc"):
    return [dict(slurm.directives(exp, exp.site(site), g)) for g in slurm.job_groups(exp, plan, site)]


def test_gpu_sweep_directives():
    exp, plan = builders.multisite()
    train, evaluate = _directives(exp, plan)
    assert train == {
        "job-name": "multi-train", "partition": "gpu", "nodes": "1", "ntasks": "1", "cpus-per-task": "16",
        "mem": "65536M", "gres": "gpu:a100:2", "time": "0-12:00:00", "output": "logs/%x-%A_%a.out",
        "error": "logs/%x-%A_%a.err", "array": "0-1",
    }
    assert evaluate["output"] == "logs/%x-%j.out" and "array" not in evaluate and "gres" not in evaluate


def test_account_qos_and_the_gpus_directive():
    exp, plan = builders.multisite()
    hpc = exp.site("hpc")
    settings = hpc.slurm.model_copy(update={"account": "proj", "qos": "high", "gpu_directive": "gpus"})
    exp = exp.model_copy(update={"sites": [
        hpc.model_copy(update={"slurm": settings}) if s.name == "hpc" else s for s in exp.sites
    ]})
    train = _directives(exp, plan)[0]
    assert (train["account"], train["qos"], train["gpus"]) == ("proj", "high", "a100:2")
    assert "gres" not in train


@pytest.mark.parametrize("seconds, expected", [
    (1, "0-00:00:01"), (59.2, "0-00:01:00"), (3600, "0-01:00:00"), (26 * 3600 + 61, "1-02:01:01"),
])
def test_time_is_days_hours_minutes_seconds_rounded_up(seconds, expected):
    assert slurm.slurm_time(seconds) == expected


def test_array_indices_collapse_runs():
    assert slurm.array_indices([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8"


def test_a_sweep_split_over_partitions_is_one_array_per_partition():
    exp, plan = builders.multisite()
    split = plan.model_copy(update={"assignments": [
        a.model_copy(update={"pool": "cpu"}) if a.unit == "train[lr=0.01]" else a for a in plan.assignments
    ]})
    files = slurm.emit_site(exp, split, "hpc")
    assert sorted(files) == ["slurm/hpc/evaluate.sbatch", "slurm/hpc/images.sh", "slurm/hpc/train.cpu.sbatch",
                             "slurm/hpc/train.gpu.sbatch"]
    assert "#SBATCH --array=1\n" in files["slurm/hpc/train.cpu.sbatch"]
    assert "  1) member_1 ;;\n" in files["slurm/hpc/train.cpu.sbatch"]
    assert "  0) member_0 ;;\n" not in files["slurm/hpc/train.cpu.sbatch"]


def test_modules_are_loaded_quoted_and_images_run_in_apptainer():
    exp, plan = builders.multisite()
    hpc = exp.site("hpc")
    settings = hpc.slurm.model_copy(update={"modules": ["cuda/12.2", "odd name"]})
    exp = exp.model_copy(update={"sites": [
        hpc.model_copy(update={"slurm": settings}) if s.name == "hpc" else s for s in exp.sites
    ]})
    train = slurm.emit_site(exp, plan, "hpc")["slurm/hpc/train.sbatch"]
    assert "module load cuda/12.2\nmodule load 'odd name'\n" in train
    sif = slurm_images.sif_name("docker://nvcr.io/nvidia/pytorch:24.01-py3", exp.span)
    assert sif.startswith("nvcr.io_nvidia_pytorch_24.01-py3-") and sif.endswith(".sif")
    assert f'apptainer exec --nv --bind "$PWD" "$(cd .. && pwd -P)"/.mlc-cache/images/{sif} bash' in train
    pull = slurm.emit_site(exp, plan, "hpc")["slurm/hpc/images.sh"]
    assert f"\npull {sif} docker://nvcr.io/nvidia/pytorch:24.01-py3\n" in pull


def test_a_service_on_slurm_is_a_job_of_its_own_that_publishes_its_address():
    exp, plan = builders.multisite()
    moved = plan.model_copy(update={"assignments": [
        a.model_copy(update={"site": "hpc", "pool": "cpu"}) if a.unit == "viewer" else a for a in plan.assignments
    ]})
    files = emit(exp, moved)
    job = files["slurm/hpc/viewer.service.sbatch"]
    assert "#SBATCH --partition=cpu\n" in job and "address=.mlc/services/viewer.url\n" in job
    assert "slurm/service.sh" in files
    assert "bash {input.service:q} start {input.script:q} {params.address:q}" in files["Snakefile"]


def test_members_asking_for_different_gpu_types_cannot_share_an_array():
    exp, plan = builders.multisite()
    other = ir.Resources(cpus=16, memory=1024, gpus=ir.Gpus(count=1, type="h100"))
    exp = exp.model_copy(update={"instances": [
        i.model_copy(update={"resources": other}) if i.id == "train[lr=0.1]" else i for i in exp.instances
    ]})
    with pytest.raises(BackendError, match="different GPU types"):
        slurm.emit_site(exp, plan, "hpc")


MULTI_LINE = "line one\n  indented two\nEND\n"


def test_array_members_carry_commands_and_multi_line_values_byte_for_byte():
    """Issue 18 class 6: a member's heredoc end line and a multi-line env
    value were indented inside the `case` branch."""
    exp, plan = builders.multisite()
    heredoc = "cat <<'END'\nbody\nEND"
    instances = [
        i.model_copy(update={
            "command": [builders.text(heredoc)],
            "env": {**i.env, "NOTE": ir.LiteralEnv(value=MULTI_LINE)},
        }) if i.stage == "train" else i
        for i in exp.instances
    ]
    files = emit(exp.model_copy(update={"instances": instances}), plan)
    script = files["slurm/hpc/train.sbatch"]
    assert script.count("\ncommand=" + shlex.quote(heredoc) + "\n") == 2
    assert script.count("\nexport NOTE=" + shlex.quote(MULTI_LINE) + "\n") == 2


def test_submit_reads_the_array_from_the_directive_header_only(tmp_path):
    """Issue 18 classes 4 and 6: an `#SBATCH --array=` line in a command or a
    value (a nested batch script) is not the job's array."""
    exp, plan = builders.multisite()
    hostile = "cat > nested.sbatch <<'END'\n#SBATCH --array=0-999999999\nEND"
    instances = [
        i.model_copy(update={"command": [builders.text(hostile)],
                             "env": {"X": ir.LiteralEnv(value="\n#SBATCH --array=0-999999999\n")}})
        if i.id == "evaluate" else i
        for i in exp.instances
    ]
    files = emit(exp.model_copy(update={"instances": instances}), plan)
    submit = files[slurm.SUBMIT_SCRIPT]
    functions = submit[submit.index("quote() {"):submit.index("retries=${MLC_RETRIES")]
    tasks = {}
    for name in ("evaluate", "train"):
        (tmp_path / f"{name}.sbatch").write_text(files[f"slurm/hpc/{name}.sbatch"])
        tasks[name] = subprocess.run(
            ["bash", "-c", functions + "script=$1; job=42; array=$(array_spec); task_names | head -n 5", "_", str(tmp_path / f"{name}.sbatch")],
            capture_output=True, text=True, check=True, timeout=60, env={"MLC_SLURM_ROOT": "r", "PATH": "/usr/bin:/bin"},
        ).stdout.split()
    assert tasks == {"evaluate": ["42"], "train": ["42_0", "42_1"]}


def _multinode(launch: ir.Launch | None, **site_settings):
    """One stage of 2 nodes x 4 A100 x 48 cpus on hpc.gpu."""
    site = builders.slurm_site(**site_settings)
    resources = ir.Resources(cpus=48, memory=64 * 1024**3, gpus=ir.Gpus(count=4, type="a100"), time=3600, nodes=2)
    train = builders.instance("train", [builders.text("train.py")], resources=resources, launch=launch)
    exp = builders.experiment("dist", [site], [train], [ir.StageGroup(name="train", instances=["train"], span=builders.span())])
    return exp, builders.plan(exp, {"train": "hpc.gpu"})


@pytest.mark.parametrize("launch, tasks, cpus", [
    (None, "1", "48"), (ir.Launch(kind="torchrun"), "1", "48"),
    (ir.Launch(kind="srun", tasks_per_node=4), "4", "12"), (ir.Launch(kind="mpirun", tasks_per_node=8), "8", "6"),
])
def test_a_multi_node_job_asks_for_whole_nodes_and_tasks_on_each(launch, tasks, cpus):
    exp, plan = _multinode(launch)
    (train,) = _directives(exp, plan)
    assert (train["nodes"], train["ntasks-per-node"], train["cpus-per-task"]) == ("2", tasks, cpus)
    assert "ntasks" not in train and train["gres"] == "gpu:a100:4" and train["mem"] == "65536M"  # per node


def test_a_multi_node_job_asks_for_gpus_per_node_with_the_gpus_directive():
    exp, plan = _multinode(ir.Launch(kind="torchrun"), gpu_directive="gpus")
    (train,) = _directives(exp, plan)
    assert train["gpus-per-node"] == "a100:4" and "gpus" not in train


@pytest.mark.parametrize("launch, starts", [
    (ir.Launch(kind="srun", tasks_per_node=4), 'srun --ntasks-per-node=4 --kill-on-bad-exit=1 bash -eo pipefail -c "$command"'),
    (ir.Launch(kind="torchrun"), 'srun --ntasks-per-node=1 --kill-on-bad-exit=1 bash -eo pipefail -c "$command"'),
    (ir.Launch(kind="mpirun", tasks_per_node=8), 'mpirun -n 16 --npernode 8 bash -eo pipefail -c "$command"'),
    (None, 'bash -eo pipefail -c "$command"'),
])
def test_the_launcher_starts_the_command_and_every_process_gets_its_rank(launch, starts):
    exp, plan = _multinode(launch)
    script = emit(exp, plan)["slurm/hpc/train.sbatch"]
    # The result cache runs once on the batch host, and the launcher under it.
    assert '\n"${MLC_PYTHON:-python3}" .mlc/step_cache.py "$recipe" ' + starts in script
    assert 'MLC_MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | sed -n 1p)"' in script
    assert "MLC_NNODES=2\n" in script
    rank = "$(( ${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}} / 8 ))" if launch and launch.kind == "mpirun" \
        else '"${SLURM_NODEID:-0}"'
    assert f"export MLC_NODE_RANK={rank} " in script


def test_a_multi_node_script_gives_every_task_its_rank_and_the_first_host_as_master(tmp_path):
    """The sbatch script run by bash with stand-ins for srun (two nodes, one
    task each: SLURM_NODEID 0 and 1) and scontrol (the hosts of the
    allocation): each task sees its rank, the node count and the first host."""
    exp, plan = _multinode(ir.Launch(kind="srun"))
    command = [builders.text('echo "$MLC_NODE_RANK $MLC_NNODES $MLC_MASTER_ADDR $MLC_MASTER_PORT" >> ranks.txt')]
    train = exp.instance("train").model_copy(update={"command": command})
    exp = exp.model_copy(update={"instances": [train]})
    files = emit(exp, plan)
    script = tmp_path / "train.sbatch"
    script.write_text(files["slurm/hpc/train.sbatch"])
    (tmp_path / ".mlc").mkdir()
    (tmp_path / ".mlc/step_cache.py").write_text(files["slurm/step_cache.py"])  # as ship/hpc/_step_cache.sh puts it
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "scontrol").write_text('#!/bin/sh\n[ "$1 $2 $3" = "show hostnames node[07-08]" ] && printf "node07\\nnode08\\n"\n')
    (bin_ / "srun").write_text('#!/bin/sh\nshift 2\nfor id in 0 1; do SLURM_NODEID=$id "$@" || exit; done\n')
    for tool in bin_.iterdir():
        tool.chmod(0o755)
    env = {"PATH": f"{bin_}:/usr/bin:/bin", "SLURM_SUBMIT_DIR": str(tmp_path), "SLURM_JOB_ID": "4242",
           "SLURM_JOB_NODELIST": "node[07-08]", "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ranks.txt").read_text() == "0 2 node07 33742\n1 2 node07 33742\n"
