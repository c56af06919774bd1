"""The plan's capacity holds in the run (issue 16, item 1): two 2-CPU stages
on a 2-CPU local site run one after the other, even with more cores offered
to Snakemake; each stage records when it started and ended, and the test
compares those records (no timing thresholds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from compiler.backends.capacity import resource_name
from tests.conftest import ROOT

TWO_WIDE = """\
experiment two_wide {
  description = "two stages that each take the whole site"
}

site box : local {
  cpus = 2
  memory = 1GiB
}

stage wide for k in [1, 2] {
  out span = file("span/${k}.txt", size = 1KB)
  cpus = 2
  memory = 64MiB
  time = 5m
  estimate = 1s
  run = "date +%s%N > ${out.span}; sleep 1; date +%s%N >> ${out.span}"
}
"""


def test_two_stages_that_fill_the_site_run_one_after_the_other(tmp_path: Path) -> None:
    source = tmp_path / "two_wide.mlx"
    source.write_text(TWO_WIDE, encoding="utf-8")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(out),
                             "--cores", "8"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    spans = sorted(tuple(int(t) for t in path.read_text().split())
                   for path in (out / "two_wide" / "work").rglob("span/*.txt")
                   if ".mlc" not in path.parts)  # not the result cache's copies
    assert len(spans) == 2, spans
    (_, first_end), (second_start, _) = spans
    assert first_end <= second_start, f"the two 2-CPU stages overlapped: {spans}"


def test_resource_names_are_identifiers_and_distinct() -> None:
    assert resource_name("cpus", "box") == "mlc_cpus_box"
    folded = resource_name("cpus", "a-b")
    assert folded.isidentifier() and folded != resource_name("cpus", "a_b")
