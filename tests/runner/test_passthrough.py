"""`mlc run ... -- <snakemake options>`, `--jobs` and `--keep-going` (issue
16, item 5): real local runs, and the options mlc refuses to pass on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from compiler.runner.passthrough import PassThroughError, checked
from tests.conftest import ROOT

SITE = """\
experiment {name} {{
  description = "local stages for the run options"
}}

site box : local {{
  cpus = {cpus}
  memory = 1GiB
}}
"""

STAGE = """
stage {name} {{
  out span = file("span/{name}.txt", size = 1KB)
  cpus = 1
  memory = 64MiB
  time = 5m
  estimate = 1s
  run = "{run}"
}}
"""
SPAN = "date +%s%N > ${out.span}; sleep 1; date +%s%N >> ${out.span}"


def _experiment(tmp_path: Path, name: str, cpus: int, stages: dict[str, str]) -> Path:
    source = tmp_path / f"{name}.mlx"
    source.write_text(SITE.format(name=name, cpus=cpus)
                      + "".join(STAGE.format(name=n, run=run) for n, run in stages.items()), encoding="utf-8")
    return source


def _mlc_run(source: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(out), *options],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def _spans(out: Path) -> list[tuple[int, ...]]:
    return sorted(tuple(int(t) for t in p.read_text().split()) for p in out.rglob("span/*.txt")
                  if ".mlc" not in p.parts)  # not the result cache's copies


def test_jobs_bounds_the_steps_in_flight(tmp_path: Path) -> None:
    source = _experiment(tmp_path, "two_narrow", 2, {"one": SPAN, "two": SPAN})
    result = _mlc_run(source, tmp_path / "out", "--jobs", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    (_, first_end), (second_start, _) = _spans(tmp_path / "out")
    assert first_end <= second_start


def test_keep_going_finishes_what_does_not_depend_on_the_failure(tmp_path: Path) -> None:
    stages = {"broken": "exit 3", **{f"fine{i}": SPAN for i in range(3)}}
    source = _experiment(tmp_path, "some_fail", 1, stages)
    result = _mlc_run(source, tmp_path / "out", "--keep-going")
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(_spans(tmp_path / "out")) == 3, result.stdout + result.stderr


def test_options_after_the_separator_reach_snakemake(tmp_path: Path) -> None:
    source = _experiment(tmp_path, "forced", 2, {"one": SPAN})
    assert _mlc_run(source, tmp_path / "out").returncode == 0
    first = _spans(tmp_path / "out")
    again = _mlc_run(source, tmp_path / "out", "--", "--forcerun", "one")
    assert again.returncode == 0, again.stdout + again.stderr
    # Snakemake ran the step again; its command did not run, because the
    # result cache holds the result of the very same key (docs/running.md).
    assert "started  one" in again.stdout and "re-used cached result" in again.stdout, again.stdout
    assert _spans(tmp_path / "out") == first


@pytest.mark.parametrize("option", ["--cores", "-j4", "--snakef=x", "-kp", "--dry-run", "--directory=.", "-n"])
def test_options_mlc_controls_are_refused(option: str) -> None:
    with pytest.raises(PassThroughError, match="cannot be passed to Snakemake"):
        checked(["--forcerun", "x", option])


@pytest.mark.parametrize("options", [["--forcerun", "train"], ["-F"], ["--profile", "p"], ["--configfile=m.yaml"],
                                     ["--set-resources", "x:mem_mb=1"], ["-R", "x"]])
def test_other_options_pass(options: list[str]) -> None:
    assert checked(options) == options


def test_a_refused_option_is_a_usage_error(tmp_path: Path) -> None:
    source = _experiment(tmp_path, "refused", 1, {"one": SPAN})
    result = _mlc_run(source, tmp_path / "out", "--", "--cores", "3")
    assert result.returncode == 2
    assert "`--cores` cannot be passed to Snakemake" in result.stderr and "mlc run --cores N" in result.stderr
    assert not (tmp_path / "out").exists()


def test_snakemake_options_need_the_separator(tmp_path: Path) -> None:
    source = _experiment(tmp_path, "stray", 1, {"one": SPAN})
    result = _mlc_run(source, tmp_path / "out", "--forcerun", "one")
    assert result.returncode == 2 and "unrecognized arguments: --forcerun one" in result.stderr
    assert _mlc_run(source, tmp_path / "out", "--", "one").returncode == 2  # a word, not an option
