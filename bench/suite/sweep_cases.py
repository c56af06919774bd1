"""The sweep phase: `mlc compile`, and code generation alone, of the same
N-member sweep pinned to each kind of site (sweeps.py). Both run the
compiler of this checkout (PYTHONPATH), not an installed mlc, so that a
change to a back end is measured before it is installed."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path

from . import sweeps
from .measure import Run, run
from .results import Measurement

REPO = Path(__file__).resolve().parents[2]
PHASE = "sweep"
COMPILE, EMIT = "mlc compile", "emit alone"


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def write(kind: str, members: int, work: Path) -> Path:
    path = work / "sweeps" / f"{sweeps.experiment_name(kind, members)}.mlx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sweeps.source(kind, members), encoding="utf-8")
    return path


def _emit_run(mlx: Path, timeout: float, log: Path) -> Run:
    """The helper's process is measured as usual; its own report replaces
    the times with those of `emit` alone."""
    outcome = run([sys.executable, str(REPO / "bench" / "emit_cpu.py"), mlx.name], cwd=mlx.parent,
                  timeout=timeout, log=log, env=_environment())
    if outcome.status != "ok":
        return outcome
    report = json.loads(log.read_text().strip().splitlines()[-1])
    return dataclasses.replace(outcome, seconds=report["seconds"], cpu_seconds=report["cpu_seconds"])


def measure(kinds: list[str], sizes: list[int], repeat: int, timeout: float, work: Path) -> list[Measurement]:
    """Every kind at every size, `repeat` times, interleaved so that load on
    the machine spreads over all kinds."""
    table = {(kind, members, tool): Measurement(PHASE, kind, members, members + 1, 2 * members + 1, tool, timeout)
             for kind in kinds for members in sizes for tool in (COMPILE, EMIT)}
    for attempt in range(repeat):
        for members in sizes:
            for kind in kinds:
                mlx = write(kind, members, work)
                logs = work / "logs" / PHASE
                out = mlx.parent / f"out-{kind}-{members}"
                for tool in (COMPILE, EMIT):
                    measurement = table[(kind, members, tool)]
                    if measurement.status == "timeout":
                        continue
                    log = logs / f"{kind}-{members}-{tool.split()[-1]}-{attempt}.log"
                    if tool == COMPILE:
                        shutil.rmtree(out, ignore_errors=True)
                        outcome = run([sys.executable, "-m", "compiler.cli", "compile", mlx.name, "-o", out.name],
                                      cwd=mlx.parent, timeout=timeout, log=log, env=_environment())
                    else:
                        outcome = _emit_run(mlx, timeout, log)
                    measurement.runs.append(outcome)
                    print(f"{PHASE:8} {kind:10} {members:6} {tool:12} run {attempt + 1}/{repeat}: "
                          f"{outcome.status:7} {outcome.cpu_seconds:7.2f} s CPU", flush=True)
                shutil.rmtree(out, ignore_errors=True)
    return list(table.values())
