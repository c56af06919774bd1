"""End to end on this machine: `mlc run` of the quickstart records every
step measured by its wrapper, `mlc report` shows the numbers, the next
plan learns from them, and the run's crate has the Provenance Run Crate's
required terms (rocrate-validator needs the RO-Crate JSON-LD context from
the network, so the profile's terms are checked here)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.records import store

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart.mlx"
PROFILES = ["https://w3id.org/ro/wfrun/process/0.5", "https://w3id.org/ro/wfrun/workflow/0.5",
            "https://w3id.org/ro/wfrun/provenance/0.5", "https://w3id.org/workflowhub/workflow-ro-crate/1.0"]


def mlc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], check=False, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    out = tmp_path_factory.mktemp("records")
    result = mlc("run", str(QUICKSTART), "-o", str(out), "--no-history")
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result


def test_every_step_is_recorded_with_measured_usage(ran):
    out, result = ran
    runs, steps = store.read(out / "quickstart")
    assert len(runs) == 1 and f"recorded run {runs[0].run_id}: 5 steps" in result.stdout
    assert sorted(s.unit for s in steps) == ["make_data", "pick", "score[slope=2.0]", "score[slope=3.0]",
                                             "score[slope=4.0]"]
    for s in steps:
        assert (s.state, s.exit_status, s.site, s.pool, s.kind) == ("COMPLETED", 0, "laptop", "laptop.local", "local")
        assert 0 < s.elapsed_s < 60 and s.cpu_time_s > 0 and s.max_rss_bytes > 1024**2
        assert s.start <= s.end and s.memory_asked_bytes == 256 * 1024**2 and s.time_limit_s == 300
    make = next(s for s in steps if s.unit == "make_data")
    points = out / "quickstart/work/laptop/data/points.csv"
    assert json.loads(make.outputs) == [{"name": "table", "path": "data/points.csv", "size": points.stat().st_size,
                                         "sha256": hashlib.sha256(points.read_bytes()).hexdigest()}]
    score = next(s for s in steps if s.unit == "score[slope=2.0]")
    assert json.loads(score.inputs)[0]["sha256"] == hashlib.sha256(points.read_bytes()).hexdigest()
    assert json.loads(make.params) == {"points": 200}


def test_a_second_run_with_nothing_to_do_records_nothing(ran):
    out, _ = ran
    again = mlc("run", str(QUICKSTART), "-o", str(out))
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert len(store.read(out / "quickstart")[0]) == 1


def test_report_shows_efficiency_and_suggestions(ran):
    out, _ = ran
    text = mlc("report", str(out / "quickstart"))
    assert text.returncode == 0, text.stderr
    assert "score      laptop.local  3" in text.stdout
    assert "memory = 256MiB, max used " in text.stdout and "would do" in text.stdout
    as_json = json.loads(mlc("report", str(QUICKSTART), "-o", str(out), "--format", "json").stdout)
    score = next(g for g in as_json["groups"] if g["stage"] == "score")
    assert score["runs"] == 3 and 0 < score["cpu_efficiency"] <= 1.5 and score["elapsed_median_s"] > 0
    (run,) = as_json["run_records"]
    assert run["outcome"] == "completed" and len(run["steps"]) == 5
    make = next(s for s in run["steps"] if s["unit"] == "make_data")
    assert make["outputs"][0]["path"] == "data/points.csv" and len(make["outputs"][0]["sha256"]) == 64
    page = mlc("report", str(out / "quickstart"), "--format", "html").stdout
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "score on laptop.local" in page


def test_the_next_plan_uses_the_measured_times(ran):
    out, _ = ran
    plan = mlc("plan", str(QUICKSTART), "-o", str(out))
    assert plan.returncode == 0
    assert "median of 1 run on laptop.local; only laptop.local can run it" in plan.stdout
    assert "median" not in mlc("plan", str(QUICKSTART), "-o", str(out), "--no-history").stdout


def test_the_compiled_folder_stays_what_the_sources_make(ran):
    out, _ = ran
    again = mlc("run", str(QUICKSTART), "-o", str(out))  # records exist; run learns only with --history
    assert again.returncode == 0
    check = mlc("compile", str(QUICKSTART), "-o", str(out), "--check")
    assert check.returncode == 0 and "up to date" in check.stdout, check.stdout + check.stderr
    learned = mlc("run", str(QUICKSTART), "-o", str(out), "--history", "--dry-run")
    assert learned.returncode == 0
    assert "median of 1 run" in (out / "quickstart" / "plan.json").read_text()


def test_the_run_crate_has_the_profile_terms(ran):
    out, _ = ran
    (crate_dir,) = (out / "quickstart/.mlc/runs").iterdir()
    graph = {e["@id"]: e for e in json.loads((crate_dir / "ro-crate-metadata.json").read_text())["@graph"]}

    def ids(value):
        return [v["@id"] for v in (value if isinstance(value, list) else [value])]

    def types(entity):
        return set(entity["@type"] if isinstance(entity["@type"], list) else [entity["@type"]])

    root = graph["./"]
    assert set(PROFILES) <= set(ids(root["conformsTo"]))
    assert all("CreativeWork" in types(graph[p]) for p in PROFILES)
    workflow = graph[root["mainEntity"]["@id"]]
    assert {"File", "SoftwareSourceCode", "ComputationalWorkflow"} <= types(workflow)
    assert (crate_dir / workflow["@id"]).is_file() and (crate_dir / "sources/quickstart.mlx").is_file()
    (formal,) = ids(workflow["input"])
    assert "FormalParameter" in types(graph[formal]) and graph[formal]["name"] == "points"
    (run_action,) = [e for e in graph.values() if "CreateAction" in types(e) and e.get("instrument") == {"@id": workflow["@id"]}]
    assert run_action["actionStatus"] == "http://schema.org/CompletedActionStatus"
    assert {graph[v]["exampleOfWork"]["@id"] for v in ids(run_action["object"])} == {formal}
    (organize,) = [e for e in graph.values() if "OrganizeAction" in types(e)]
    assert organize["result"] == {"@id": run_action["@id"]}
    controls = [graph[c] for c in ids(organize["object"])]
    assert len(controls) == 5 and sorted(ids(workflow["step"])) == sorted(c["instrument"]["@id"] for c in controls)
    for control in controls:
        assert "ControlAction" in types(control)
        action = graph[control["object"]["@id"]]
        step = graph[control["instrument"]["@id"]]
        assert "CreateAction" in types(action) and action["instrument"] == step["workExample"]
        assert action["startTime"] <= action["endTime"] and action["location"] == "laptop"
        usage = {graph[u]["name"]: graph[u] for u in ids(action["resourceUsage"])}
        assert {"elapsed", "cpuTime", "maxRSS"} <= set(usage)
        assert all("File" in types(graph[f]) for f in ids(action["result"]))
        assert all(len(graph[f]["sha256"]) == 64 for f in ids(action["result"]))


def test_steps_run_without_mlc_are_recorded_by_the_next_run(tmp_path):
    assert mlc("compile", str(QUICKSTART), "-o", str(tmp_path)).returncode == 0
    folder = tmp_path / "quickstart"
    snakemake = subprocess.run(["snakemake", "--cores", "1"], check=False, cwd=folder, capture_output=True, text=True,
                               timeout=300)
    assert snakemake.returncode == 0, snakemake.stderr
    assert store.read(folder) == ([], [])
    again = mlc("run", str(QUICKSTART), "-o", str(tmp_path))
    assert again.returncode == 0 and "nothing to do" in again.stdout
    runs, steps = store.read(folder)
    assert len(runs) == 1 and len(steps) == 5 and all(s.elapsed_s is not None for s in steps)
    # recorded once: a third run adds nothing
    assert mlc("run", str(QUICKSTART), "-o", str(tmp_path)).returncode == 0
    assert len(store.read(folder)[0]) == 1
