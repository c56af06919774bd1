"""Runs that are not plain runs: steps whose result came from the result
cache are recorded as re-used (and learned from by nobody), and a run
stopped with Ctrl-C is still recorded, its running step as interrupted."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from compiler.records import learn, store
from compiler.records.summary import groups
from compiler.frontend import load

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart.mlx"


def mlc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], check=False, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_cache_reuses_are_recorded_as_reused_and_not_learned_from(tmp_path):
    for points in ("200", "100", "200"):  # the third run finds every result in the cache
        result = mlc("run", str(QUICKSTART), "-o", str(tmp_path), "-p", f"points={points}")
        assert result.returncode == 0, result.stdout + result.stderr
    assert "(5 re-used from the cache, 0 ran)" in result.stdout
    runs, steps = store.read(tmp_path / "quickstart")
    assert len(runs) == 3
    third = [s for s in steps if s.run_id == runs[2].run_id]
    assert len(third) == 5 and {s.state for s in third} == {"REUSED"}
    assert {s.state for s in steps if s.run_id != runs[2].run_id} == {"COMPLETED"}

    score = next(g for g in groups(steps) if g.stage == "score")
    assert (score.runs, score.reused, score.failed) == (6, 3, 0)
    experiment, _, _ = load(QUICKSTART, {})
    _, learned = learn.learn(experiment, tmp_path / "quickstart")
    assert learned["make_data"]["laptop.local"].runs == 2  # the two runs that ran, not the re-use

    report = json.loads(mlc("report", str(tmp_path / "quickstart"), "--format", "json").stdout)
    assert [r["outcome"] for r in report["run_records"]] == ["completed"] * 3
    assert "+3 re-used" in mlc("report", str(tmp_path / "quickstart")).stdout


SLOW = """
experiment slow {
  description = "A quick step, then one that takes long"
}

site laptop : local {
  cpus = 2
  memory = 4GiB
}

stage quick {
  out a = file("a.txt", size = 1KB)
  cpus = 1
  memory = 256MiB
  time = 5m
  estimate = 1s
  run = "echo a > ${out.a}"
}

stage long {
  in a = quick.a
  out b = file("b.txt", size = 1KB)
  cpus = 1
  memory = 256MiB
  time = 5m
  estimate = 2m
  run = "sleep 120; cp ${in.a} ${out.b}"
}
"""


def test_a_run_stopped_with_ctrl_c_is_recorded(tmp_path):
    source = tmp_path / "slow.mlx"
    source.write_text(SLOW)
    folder = tmp_path / "out" / "slow"
    proc = subprocess.Popen([sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(tmp_path / "out")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not _started(folder / ".mlc/steps/long"):
            assert proc.poll() is None and time.monotonic() < deadline, "the long step never started"
            time.sleep(0.2)
        time.sleep(1)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stdout + stderr
    assert "recorded run " in stdout
    (run,), steps = store.read(folder)
    assert (run.status, run.outcome) == (130, "interrupted")
    assert {s.unit: s.state for s in steps} == {"quick": "COMPLETED", "long": "INTERRUPTED"}
    long = next(s for s in steps if s.unit == "long")
    assert long.start is not None and 0 < long.elapsed_s < 60
    assert not groups(steps)[0].failed  # an interrupted step is no failure of its own
    (crate_dir,) = (folder / ".mlc/runs").iterdir()
    graph = json.loads((crate_dir / "ro-crate-metadata.json").read_text())["@graph"]
    assert any(e.get("error", "").startswith("interrupted") for e in graph)


def _started(path: Path) -> bool:
    try:
        return path.read_text().strip() == "started"
    except OSError:
        return False
