"""`mlc down` and `mlc status` reach every kind through the registry: a
local service is stopped by its script, a Kubernetes site torn down by its
down.sh, an unfinished Slurm job cancelled from its record. The generated
scripts are swapped for stubs that record how they were called, so no
cluster is needed."""

from __future__ import annotations

import argparse
from pathlib import Path

import builders

from compiler import runner
from compiler.backends import emit


def _write(folder: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text, encoding="utf-8")


def _stub(folder: Path, script: str, says: str) -> Path:
    calls = folder / f"{Path(script).stem}.calls"
    (folder / script).write_text(f'echo "$*" >>{calls}\necho {says}\n', encoding="utf-8")
    return calls


def test_down_stops_a_local_service_and_cancels_an_unfinished_slurm_job(tmp_path, capsys):
    exp, plan = builders.multisite()
    _write(tmp_path, emit(exp, plan))
    calls = _stub(tmp_path, "local/laptop/viewer.sh", "bye")
    (tmp_path / ".mlc" / "jobs").mkdir(parents=True)
    (tmp_path / ".mlc" / "jobs" / "evaluate").write_text("kind=slurm\nsite=hpc\nid=pending\n", encoding="utf-8")
    (tmp_path / ".mlc" / "jobs" / "prepare").write_text("kind=local\nid=7\n", encoding="utf-8")

    assert runner.down(exp, tmp_path, argparse.Namespace()) == runner.EXIT_OK

    out = capsys.readouterr().out.splitlines()
    assert calls.read_text(encoding="utf-8") == "stop\n"
    assert "service viewer: stopped" in out
    assert "stage evaluate on Slurm hpc.cpu: no job id recorded" in out
    assert not any(line.startswith("prepare") for line in out)  # a kind without batch jobs cancels nothing


def test_down_tears_a_kubernetes_site_down_and_status_names_its_service(tmp_path, capsys, monkeypatch):
    exp, plan = builders.with_kubernetes()
    _write(tmp_path, emit(exp, plan))
    calls = _stub(tmp_path, "k8s/cloud/down.sh", "deleted")

    assert runner.down(exp, tmp_path, argparse.Namespace()) == runner.EXIT_OK
    assert "site cloud: deleted" in capsys.readouterr().out.splitlines()
    assert calls.read_text(encoding="utf-8") == "\n"

    monkeypatch.setenv("MLC_RUN", "nightly")  # the run's Service object carries its suffix
    assert runner.status(exp, tmp_path, argparse.Namespace(format="text")) == runner.EXIT_OK
    namespace = exp.site("cloud").kubernetes.namespace
    assert (f"service serve: {exp.name}-serve-nightly.{namespace}.svc:8080 on cloud (ask kubectl for readiness)"
            in capsys.readouterr().out.splitlines())
