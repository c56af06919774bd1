"""Issue 12.3-4: a hostile module name, conda environment, virtual
environment, constraint, reservation or `sbatch` entry is refused with a
diagnostic or reaches the job as data: the local script runs with recording
stand-ins for `module` and `conda` and no marker file appears; an sbatch
script's directive header holds exactly the lines mlc meant to write."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.hostile.test_hostile_commands import (
    FRAGMENTS,
    MARKER,
    compile_source,
    hostile,
    mlx_string,
)

FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_DIRECTIVE = re.compile(r"#SBATCH --[a-z][a-z-]*(=[!-~]+)?")


def _stand_ins(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    for tool in ("module", "conda"):
        script = folder / tool
        script.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done >>"{folder}/{tool}.args"\n')
        script.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}


def _fresh(tmp_path: Path) -> Path:
    folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    return folder


@FAST
@given(value=hostile, field=st.sampled_from(["modules", "conda", "venv"]))
@example(value="$(touch pwned)", field="venv")
@example(value="/$(touch pwned)", field="conda")
@example(value="x; touch pwned", field="modules")
def test_environment_values_never_run(tmp_path, value, field):
    folder = _fresh(tmp_path)
    written = f"[{mlx_string(value)}]" if field == "modules" else mlx_string(value)
    status = compile_source(folder, "site laptop : local { cpus = 2; memory = 2GiB }\n"
                                    f'stage a {{ {field} = {written}; run = "true" }}\n')
    assert status in (0, 1)  # accepted, or a diagnostic: never a traceback
    if status == 1:
        return
    script = folder / "out" / "exp" / "local" / "laptop" / "a.sh"
    env = _stand_ins(folder / "bin")
    subprocess.run(["bash", str(script)], cwd=folder, env=env, capture_output=True, timeout=60, check=False)
    assert not list(folder.rglob(MARKER)), "a value ran as code"
    if field == "modules":
        assert (folder / "bin" / "module.args").read_text().split("\0")[:-1] == ["load", value]
    if field == "conda":
        assert (folder / "bin" / "conda.args").read_text().split("\0")[-3:-1] == ["activate", value]


@FAST
@given(value=hostile, field=st.sampled_from(["constraint", "reservation", "sbatch"]))
@example(value="a100\n#SBATCH --array=0-999999", field="constraint")
@example(value="--mail-type=END\n#SBATCH --array=0-999", field="sbatch")
@example(value="--comment=$(touch pwned)", field="sbatch")
def test_scheduler_options_stay_one_directive(tmp_path, value, field):
    folder = _fresh(tmp_path)
    written = f"[{mlx_string(value)}]" if field == "sbatch" else mlx_string(value)
    status = compile_source(folder, "site hpc : slurm { partition cpu { cpus = 2; memory = 2GiB } }\n"
                                    f'stage a {{ {field} = {written}; run = "true" }}\n')
    assert status in (0, 1)
    if status == 1:
        return
    script = (folder / "out" / "exp" / "slurm" / "hpc" / "a.sbatch").read_text()
    lines = script.splitlines()
    header = [line for line in lines if line.startswith("#SBATCH")]
    assert all(_DIRECTIVE.fullmatch(line) for line in header)
    assert script.count("#SBATCH") == len(header)  # none hides in the body
    expected = value if field == "sbatch" else f"--{field}={value}"
    assert f"#SBATCH {expected}" in header


def test_fragments_cover_directive_injection():
    assert any("#SBATCH" in f for f in FRAGMENTS)
