"""The result cache and the output checks, run for real with `mlc run` on a
local site (issue 14, items 3 and 4): base=10, then 3, then 10 again re-uses
every step of the first run and runs no command; a deleted result is noticed
and brought back; `mlc clean` removes only results no work tree shows; two
experiments sharing a work root share results.

Each stage appends a line to ran.log in the work tree when its command
really runs, so the tests count commands, not Snakemake jobs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

EXPERIMENT = """\
experiment {name} {{
  description = "Numbers from a base, merged, counted"
}}

param base: int = 10

site here : local {{
  cpus = 2
  memory = 1GiB
  workdir = {workdir}
}}

stage gen for i in [1, 2, 3] {{
  out num = file("nums/${{i}}.txt", size = 1KB)
  cpus = 1
  memory = 64MiB
  time = 1m
  estimate = 1s
  run = "echo ${{base}} ${{i}} > ${{out.num}} && echo gen-${{i}} >> ran.log"
}}

stage merge {{
  in nums = gen.num
  out merged = file("merged.txt", size = 1KB)
  cpus = 1
  memory = 64MiB
  time = 1m
  estimate = 1s
  run = "cat ${{in.nums}} > ${{out.merged}} && echo merge >> ran.log"
}}

stage count {{
  in merged = merge.merged
  out lines = file("count.txt", size = 1KB)
  cpus = 1
  memory = 64MiB
  time = 1m
  estimate = 1s
  run = "wc -l < ${{in.merged}} > ${{out.lines}} && echo count >> ran.log"
}}

stage side {{
  out value = file("side.txt", size = 1KB)
  cpus = 1
  memory = 64MiB
  time = 1m
  estimate = 1s
  run = "echo ${{base}} > ${{out.value}} && echo side >> ran.log"
}}
"""


def _write(tmp_path: Path, name: str = "numbers") -> tuple[Path, Path]:
    root = tmp_path / "work"
    source = tmp_path / f"{name}.mlx"
    source.write_text(EXPERIMENT.format(name=name, workdir=json.dumps(str(root))), encoding="utf-8")
    return source, root / "here"  # a local site's work tree is <workdir>/<site>


def mlc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def _run(source: Path, out: Path, *params: str) -> str:
    result = mlc("run", str(source), "-o", str(out), "--cores", "2", *params)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _commands(workdir: Path) -> list[str]:
    """The commands that really ran, in order (each appends to ran.log)."""
    log = workdir / "ran.log"
    return log.read_text(encoding="utf-8").split() if log.exists() else []


def _started(stdout: str) -> set[str]:
    return {line.split("started  ", 1)[1].split(" on ", 1)[0] for line in stdout.splitlines() if "started  " in line}


def test_going_back_to_a_param_value_reuses_every_step(tmp_path):
    source, workdir = _write(tmp_path)
    out = tmp_path / "out"
    _run(source, out, "-p", "base=10")
    assert sorted(_commands(workdir)) == ["count", "gen-1", "gen-2", "gen-3", "merge", "side"]
    first = (workdir / "merged.txt").read_text()

    _run(source, out, "-p", "base=3")
    assert len(_commands(workdir)) == 12  # everything depends on base
    assert (workdir / "merged.txt").read_text() == "3 1\n3 2\n3 3\n"

    third = _run(source, out, "-p", "base=10")
    assert len(_commands(workdir)) == 12, "the third run ran a command"
    assert (workdir / "merged.txt").read_text() == first == "10 1\n10 2\n10 3\n"
    assert "(6 re-used from the cache, 0 ran)" in third
    assert third.count("re-used cached result") == 6

    # Why a step ran, from the second run's record of what differed.
    record_of_merge = [json.loads(p.read_text()) for p in (workdir / ".mlc/cache").glob("*/record.json")]
    merged = {r["params"].get("base") for r in record_of_merge if r["step"] == "side"}
    assert merged == {"10", "3"}


def test_a_deleted_result_is_noticed_and_only_its_step_and_dependants_run(tmp_path):
    source, workdir = _write(tmp_path)
    out = tmp_path / "out"
    _run(source, out)
    before = _commands(workdir)

    (workdir / "merged.txt").unlink()
    status = mlc("status", str(source), "-o", str(out))
    merge_line = next(line for line in status.stdout.splitlines() if line.startswith("merge "))
    assert merge_line.split()[-3:] == ["pending", "(gone:", f"{workdir / 'merged.txt'})"]
    assert "5 of 6 steps done" in status.stdout

    again = _run(source, out)
    assert _started(again) == {"merge", "count"}  # exactly the step and its dependant
    assert "merge on the local site here (again: " in again and "merged.txt is gone)" in again
    assert _commands(workdir) == before, "the cached result should have been linked back, not recomputed"
    assert (workdir / "merged.txt").read_text() == "10 1\n10 2\n10 3\n"

    # A purge (the visible result and its cached copy gone): the command runs.
    (workdir / "merged.txt").unlink()
    cleaned = mlc("clean", str(source), "-o", str(out), "--delete")
    assert cleaned.returncode == 0, cleaned.stderr
    assert cleaned.stdout.count("removed ") == 2 and "(merge;" in cleaned.stdout  # + the summary line
    again = _run(source, out)
    assert _started(again) == {"merge", "count"}
    assert _commands(workdir) == [*before, "merge"]  # count's input has the same content: re-used
    merge_done = next(line for line in again.splitlines() if "done     merge " in line)
    assert "; ran: no earlier result of this step in this work tree)" in merge_done


def test_clean_lists_by_default_and_keeps_what_a_work_tree_shows(tmp_path):
    source, workdir = _write(tmp_path)
    out = tmp_path / "out"
    _run(source, out, "-p", "base=10")
    _run(source, out, "-p", "base=3")
    entries = sorted(p.name for p in (workdir / ".mlc/cache").iterdir() if p.name not in ("shown", "notes"))
    assert len(entries) == 12

    listed = mlc("clean", str(source), "-o", str(out), "-p", "base=3")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("would remove ") == 6 and "nothing was removed" in listed.stdout
    assert sorted(p.name for p in (workdir / ".mlc/cache").iterdir() if p.name not in ("shown", "notes")) == entries
    removable = [line for line in listed.stdout.splitlines() if line.startswith("would remove")]
    assert all("base=10" in line for line in removable if "base=" in line)  # merge and count use no param
    assert sum("base=10" in line for line in removable) == 4  # gen x3 and side

    mlc("clean", str(source), "-o", str(out), "-p", "base=3", "--delete")
    assert len([p for p in (workdir / ".mlc/cache").iterdir() if p.name not in ("shown", "notes")]) == 6
    after = _run(source, out, "-p", "base=3")
    assert "nothing to do" in after  # what the work tree shows was kept
    back = _run(source, out, "-p", "base=10")
    assert "(0 re-used from the cache, 6 ran)" in back


def test_two_experiments_sharing_a_work_root_share_results(tmp_path):
    source, workdir = _write(tmp_path, "numbers")
    other, same_workdir = _write(tmp_path, "numbers_again")
    assert same_workdir == workdir
    _run(source, tmp_path / "out")
    second = _run(other, tmp_path / "out")
    assert "(6 re-used from the cache, 0 ran)" in second
    assert len(_commands(workdir)) == 6
