"""Steps and runs for the records tests, with only what a test cares about given."""

from __future__ import annotations

from dataclasses import fields

from compiler.records.store import Run, Step


def run(run_id: str = "r1", started: float = 1000.0) -> Run:
    return Run(run_id=run_id, experiment="exp", started=started, ended=started + 60, status=0,
               sources='["exp.mlx"]', params="{}", mlc_version="0")


def step(**given) -> Step:
    values = {f.name: None for f in fields(Step)}
    values.update(run_id="r1", rule="train", unit="train", stage="train", site="hpc", pool="hpc.gpu", kind="slurm",
                  nodes="[]", state="COMPLETED", params="{}", inputs="[]", outputs="[]")
    values.update(given)
    return Step(**values)
