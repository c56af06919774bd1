"""A run that fails: the failed step is recorded with its exit status and
usage; a step the failure kept from starting is not recorded at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from compiler.records import store

ROOT = Path(__file__).resolve().parents[2]

SOURCE = """
experiment failing {
  description = "The first step fails"
}

site laptop : local {
  cpus = 2
  memory = 4GiB
}

stage first {
  out a = file("a.txt", size = 1KB)
  cpus = 1
  memory = 256MiB
  time = 1m
  estimate = 1s
  run = "echo partial > ${out.a}; exit 7"
}

stage second {
  in a = first.a
  out b = file("b.txt", size = 1KB)
  cpus = 1
  memory = 256MiB
  time = 1m
  estimate = 1s
  run = "cp ${in.a} ${out.b}"
}
"""


def test_only_steps_that_started_are_recorded(tmp_path):
    source = tmp_path / "failing.mlx"
    source.write_text(SOURCE)
    result = subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(tmp_path / "out")],
                            check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    runs, steps = store.read(tmp_path / "out" / "failing")
    assert [r.status for r in runs] == [1]
    (first,) = steps
    assert (first.unit, first.state, first.exit_status) == ("first", "FAILED", 7)
    assert first.elapsed_s is not None and first.max_rss_bytes > 0
