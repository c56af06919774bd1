"""What is measured: each tool's command on a workload. Commands run the
installed console scripts next to this Python directly (not a pyenv shim,
whose start-up would be counted); `mlc` runs this checkout's compiler
(PYTHONPATH), not whatever copy of it is installed."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .workloads import Workload

BIN = Path(sys.executable).parent

MLC_CHECK, MINIWDL_CHECK, SNAKEMAKE_DRY_RUN = "mlc check", "miniwdl check", "snakemake -n"
MLC_COMPILE, SNAKEMAKE_DRY_RUN_GENERATED = "mlc compile", "snakemake -n (mlc's Snakefile)"


@dataclass(frozen=True)
class Case:
    tool: str
    argv: tuple[str, ...]
    cwd: Path
    fresh: Path | None = None  # a folder removed before each run (outside the timing)
    needs: str | None = None  # a tool whose run just before, on the same workload, must have succeeded
    checkout: bool = False  # run with this checkout first on PYTHONPATH (mlc itself)


def _snakemake(cwd: Path, tool: str, needs: str | None = None) -> Case:
    return Case(tool, (str(BIN / "snakemake"), "-n", "--cores", "1"), cwd, needs=needs)


def check_cases(w: Workload, *, peers: bool) -> list[Case]:
    cases = [Case(MLC_CHECK, (str(BIN / "mlc"), "check", w.mlx.name), w.mlx.parent, checkout=True)]
    if peers:
        cases += [Case(MINIWDL_CHECK, (str(BIN / "miniwdl"), "check", w.wdl.name), w.wdl.parent),
                  _snakemake(w.snakefile.parent, SNAKEMAKE_DRY_RUN)]
    return cases


def compile_cases(w: Workload) -> list[Case]:
    """`mlc compile` into a fresh folder, then Snakemake's dry run of what it
    wrote: in this order within each repeat."""
    out = w.mlx.parent / "out"
    return [Case(MLC_COMPILE, (str(BIN / "mlc"), "compile", w.mlx.name, "-o", out.name),
                 w.mlx.parent, fresh=out, checkout=True),
            _snakemake(out / w.experiment, SNAKEMAKE_DRY_RUN_GENERATED, needs=MLC_COMPILE)]
