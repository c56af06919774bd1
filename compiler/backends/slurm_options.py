"""A stage's typed Slurm options and its `sbatch = [...]` entries as
`#SBATCH` directives. The front end checked each value
(frontend/stage_options.py, frontend/sbatch_table.py); slurm.directives()
checks them again before any is written."""

from __future__ import annotations

from ..ir import SlurmOptions, SlurmSignal, StageInstance
from .errors import BackendError


def group_options(stage: str, instances: tuple[StageInstance, ...], span) -> SlurmOptions:
    """The options of one job (a sweep's members share it)."""
    if any(inst.slurm != instances[0].slurm for inst in instances):
        raise BackendError(f"the members of `{stage}` on one partition ask for different Slurm options; "
                           "one job array has one set", span)
    return instances[0].slurm


def directives(options: SlurmOptions) -> list[tuple[str, str | None]]:
    """(option, value) pairs; value None for a switch such as --exclusive."""
    out: list[tuple[str, str | None]] = []
    if options.constraint is not None:
        out.append(("constraint", options.constraint))
    if options.exclusive:
        out.append(("exclusive", None))
    if options.reservation is not None:
        out.append(("reservation", options.reservation))
    if options.requeue is not None:
        out.append(("requeue" if options.requeue else "no-requeue", None))
    if options.signal is not None:
        out.append(("signal", signal_value(options.signal)))
    out += options.extra
    return out


def signal_value(signal: SlurmSignal) -> str:
    """`B:USR1@300`: to the batch shell, which passes it on to the command
    (Slurm would otherwise signal job steps only, and the command is none)."""
    return f"B:{signal.name}@{signal.before}"
