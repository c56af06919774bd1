"""The local step wrapper's measurement: the command's exit status passes
through, and the usage JSON lands in the output folder's .mlc/usage/."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "out" / "quickstart" / "local" / "laptop" / "make_data.sh"


def _with_command(tmp_path: Path, command: str) -> Path:
    text = SCRIPT.read_text()
    text = re.sub(r"^command='.*?'\n(?=recipe=)", f"command='{command}'\n", text, flags=re.DOTALL | re.MULTILINE)
    script = tmp_path / "local" / "laptop" / "step.sh"
    script.parent.mkdir(parents=True)
    script.write_text(text)
    # The step runs through the result cache beside it, as in the folder.
    cache = SCRIPT.parent.parent / "step_cache.py"
    (tmp_path / "local" / "step_cache.py").write_text(cache.read_text())
    return script


@pytest.mark.parametrize("status", [0, 3])
def test_usage_is_written_and_the_status_kept(tmp_path, status):
    # It writes the step's declared output, which the result cache checks.
    script = _with_command(tmp_path, f'python3 -c "x = bytearray(50 * 2**20)"; mkdir -p data; : > data/points.csv; '
                                     f'exit {status}')
    result = subprocess.run(["bash", "local/laptop/step.sh"], check=False, cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "MLC_WORKDIR": str(tmp_path / "work")})
    assert result.returncode == status, result.stderr
    usage = json.loads((tmp_path / ".mlc" / "usage" / "make_data.json").read_text())
    assert usage["exit_status"] == status and usage["end"] >= usage["start"]
    assert usage["max_rss_bytes"] >= 50 * 2**20 and usage["cpu_time_s"] > 0
    assert script.is_file()
