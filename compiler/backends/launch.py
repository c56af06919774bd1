"""Multi-node stages in the generated shell: how the command starts on each
node (`launch`), and the rendezvous variables every launched process sees
(MLC_NODE_RANK, MLC_NNODES, MLC_MASTER_ADDR, MLC_MASTER_PORT), whatever the
site. Each site kind says where the values come from (`Rendezvous`); this
module writes the same command around them for all of them.

Everything written here is mlc's own text or a whole number from the IR:
no user value reaches the shell through this module."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..ir import Service, StageInstance

# torchrun's default rendezvous port. On Slurm it is moved by the job id, so
# that two jobs whose first node is the same do not collide.
BASE_PORT = 29500
PORT_SPREAD = 10000


@dataclass(frozen=True)
class Rendezvous:
    """Shell expressions for a site kind: evaluated in the launched process
    (`node_rank`, `run_id`)."""

    node_rank: str  # this node's rank, 0 on the first
    run_id: str  # the same on every node of one run, unique per run
    local_rank: str = '"${MLC_LOCAL_RANK:-0}"'  # the task's index on its node (mlc's own loop sets it)


def is_multinode(instance: StageInstance) -> bool:
    """Does the stage get the rendezvous variables: several nodes, or a launcher."""
    return instance.resources.nodes > 1 or instance.launch is not None


def launch_kind(instance: StageInstance) -> str | None:
    return instance.launch.kind if instance.launch is not None else None


def tasks_per_node(instance: StageInstance) -> int:
    """Processes started on each node by the site (srun, mpirun) before the
    command; torchrun and a plain command are one per node (torchrun forks
    its own workers)."""
    launch = instance.launch
    return launch.tasks_per_node if launch is not None and launch.kind in ("srun", "mpirun") else 1


def nproc_per_node(instance: StageInstance) -> int:
    """torchrun's --nproc_per_node: one process per GPU of a node, one
    without GPUs."""
    gpus = instance.resources.gpus
    return max(1, gpus.count if gpus else 0)


def torchrun_prefix(nodes: int, nproc: int, run_id: str) -> str:
    """torchrun's command line up to the script: one agent per node, the
    c10d rendezvous on the first node."""
    return (f'torchrun --nnodes={nodes} --nproc_per_node={nproc} --node_rank="$MLC_NODE_RANK"'
            f" --rdzv_id={run_id} --rdzv_backend=c10d"
            ' --rdzv_endpoint="$MLC_MASTER_ADDR:$MLC_MASTER_PORT" ')


MPI_LOCAL_RANK = '"${OMPI_COMM_WORLD_LOCAL_RANK:-${MPI_LOCALRANKID:-0}}"'


def mpi_node_rank(tasks: int) -> str:
    """An MPI process's node: its rank over the tasks per node (mpirun
    places them `--npernode` in rank order); Open MPI, then PMI, names."""
    return f"$(( ${{OMPI_COMM_WORLD_RANK:-${{PMI_RANK:-0}}}} / {tasks} ))"


def wrap(instance: StageInstance, command: str, rendezvous: Rendezvous) -> str:
    """The command each launched process runs: its node rank exported, and
    for torchrun the launcher's command line in front of the user's (which
    is then the script and its arguments)."""
    if not is_multinode(instance):
        return command
    mpi = launch_kind(instance) == "mpirun"
    rank = mpi_node_rank(tasks_per_node(instance)) if mpi else rendezvous.node_rank
    local = MPI_LOCAL_RANK if mpi else rendezvous.local_rank
    if launch_kind(instance) == "torchrun":
        command = torchrun_prefix(instance.resources.nodes, nproc_per_node(instance), rendezvous.run_id) + command
    return f"export MLC_NODE_RANK={rank} MLC_LOCAL_RANK={local}\n{command}"


def mpirun_prefix(instance: StageInstance) -> str:
    """mpirun started once: it starts the tasks on every node itself."""
    tasks = tasks_per_node(instance)
    return f"mpirun -n {instance.resources.nodes * tasks} --npernode {tasks} "


# --- Slurm ---------------------------------------------------------------

SLURM = Rendezvous(node_rank='"${SLURM_NODEID:-0}"', run_id='"$SLURM_JOB_ID"', local_rank='"${SLURM_LOCALID:-0}"')


def slurm_directives(instance: StageInstance) -> list[tuple[str, str]]:
    """--nodes and --ntasks-per-node: whole nodes, the tasks srun starts on each."""
    return [("nodes", str(instance.resources.nodes)), ("ntasks-per-node", str(tasks_per_node(instance)))]


def slurm_setup(instance: StageInstance) -> str:
    """Batch-script lines that set the rendezvous variables (outside any
    container: scontrol is the host's). The first host of the allocation is
    the master."""
    if not is_multinode(instance):
        return ""
    return (f"MLC_NNODES={instance.resources.nodes}\n"
            'MLC_MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | sed -n 1p)"\n'
            f'MLC_MASTER_PORT="$(( {BASE_PORT} + SLURM_JOB_ID % {PORT_SPREAD} ))"\n'
            "export MLC_NNODES MLC_MASTER_ADDR MLC_MASTER_PORT\n")


def slurm_launcher(instance: StageInstance) -> str:
    """What starts the command (before the container or bash): srun, one
    task per node for torchrun; mpirun once; nothing for a plain command."""
    kind = launch_kind(instance)
    if kind in ("srun", "torchrun"):
        return f"srun --ntasks-per-node={tasks_per_node(instance)} --kill-on-bad-exit=1 "
    if kind == "mpirun":
        return mpirun_prefix(instance)
    return ""


# --- one host (local, ssh): `nodes` is 1 there (fit.py) -------------------

ONE_HOST = Rendezvous(node_rank="0", run_id="mlc")


def single_host(instance: StageInstance | Service, command: str) -> str:
    """The command on a site whose stages run on one machine: the same
    variables (one node, this host as master), torchrun on one node, and
    srun's or mpirun's tasks started here. A service's is its own."""
    if not isinstance(instance, StageInstance) or not is_multinode(instance):
        return command
    inner = wrap(instance, command, ONE_HOST)
    setup = f"export MLC_NNODES=1 MLC_MASTER_ADDR=127.0.0.1 MLC_MASTER_PORT={BASE_PORT}\n"
    tasks = tasks_per_node(instance)
    if launch_kind(instance) == "mpirun":
        return setup + f"mpirun -n {tasks} bash -eo pipefail -c {shlex.quote(inner)}"
    if tasks > 1:
        return setup + (f"pids=()\nfor ((task = 0; task < {tasks}; task++)); do\n"
                        f"  MLC_LOCAL_RANK=$task bash -eo pipefail -c {shlex.quote(inner)} &\n"
                        '  pids+=("$!")\ndone\nstatus=0\n'
                        'for pid in "${pids[@]}"; do wait "$pid" || status=$?; done\nexit "$status"')
    return setup + inner
