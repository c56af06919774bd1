"""One poller per Slurm site (issue 16, item 2), on the real test cluster:
three independent jobs of one site run at once, and all their waiting is
done by ONE poller process, whose squeue calls name every job at once; the
steps never call squeue themselves. squeue is wrapped on PATH by a script
that logs its arguments and runs the real one."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from tests.slurm.cluster import GENEROUS_TIMEOUT

pytestmark = pytest.mark.slurm

ROOT = Path(__file__).resolve().parents[2]
JOBS = ("a", "b", "c")

EXPERIMENT = """
param scratch: str = "/tmp"
site cluster : slurm {
  scratch = "${scratch}"
  partition cpu { nodes = 2  cpus = 2  memory = 2GiB }
}
experiment polled { description = "three jobs of one site, waited for at once" }
""" + "".join(f"""
stage {name} {{
  out done = file("{name}.txt", size = 1KB)
  cpus = 1
  memory = 128MiB
  time = 2m
  estimate = 8s
  on = cluster.cpu
  run = "sleep 8; echo {name} > ${{out.done}}"
}}
""" for name in JOBS)


def _squeue_wrapper(bin_dir: Path, calls: Path) -> None:
    real = shutil.which("squeue")
    assert real, "squeue is not installed"
    wrapper = bin_dir / "squeue"
    wrapper.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        printf '%s\\n' "$*" >> {calls}
        exec {real} "$@"
        """))
    wrapper.chmod(0o755)


def _pollers(folder: Path) -> set[int]:
    """The pids of processes that are a poller of this folder."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [w.decode(errors="replace") for w in argv]
        if any(w.endswith("poller.py") for w in words) and "serve" in words and str(folder) in " ".join(words):
            found.add(int(entry.name))
    return found


def test_one_poller_watches_all_jobs_of_a_site_with_one_squeue(slurm_workdir, tmp_path):
    source = tmp_path / "polled.mlx"
    source.write_text(EXPERIMENT)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "squeue.calls"
    _squeue_wrapper(bin_dir, calls)
    out = tmp_path / "out"
    folder = out / "polled"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "MLC_POLL_LINGER": "2"}
    process = subprocess.Popen(
        [sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(out), "-p", f"scratch={slurm_workdir}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen: set[int] = set()
    most = 0
    finished = threading.Event()

    def sample():  # which pollers run, while the run runs
        nonlocal most
        while not finished.wait(0.2):
            now = _pollers(folder)
            seen.update(now)
            most = max(most, len(now))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        output, _ = process.communicate(timeout=GENEROUS_TIMEOUT)
    finally:
        finished.set()
        sampler.join()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 0, output
    for name in JOBS:
        assert (slurm_workdir / "polled" / f"{name}.txt").read_text() == f"{name}\n"

    ids = {(folder / ".mlc" / "jobs" / name).read_text().split("id=")[1].split()[0] for name in JOBS}
    queries = [line.split() for line in calls.read_text().splitlines()]
    # Every squeue call is the poller's (`-h -j IDS -o %i %T`): no step asked.
    assert queries and all(q[:2] == ["-h", "-j"] and q[3:] == ["-o", "%i", "%T"] for q in queries), queries
    # While the three ran at once, one call asked about all three.
    assert any(set(q[2].split(",")) == ids for q in queries), (ids, queries)
    # Far fewer calls than three steps asking once a second for 8 s each.
    assert len(queries) < 3 * 8, queries
    # One poller, started once, seen alone.
    log = (folder / ".mlc" / "poll" / "cluster" / "log").read_text()
    assert log.count("poller started") == 1, log
    assert most == 1 and len(seen) == 1, (seen, log)
