"""Same input, same bytes: whatever PYTHONHASHSEED (set and dict order of
strings) the compiler runs with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_PROGRAM = """
import hashlib, json, sys
sys.path.insert(0, sys.argv[1])
import builders
from compiler.backends import emit
files = {}
for name, build in [("quickstart", builders.quickstart), ("multisite", builders.multisite),
                    ("hostile", lambda: builders.hostile_local(builders.HOSTILE))]:
    files.update({f"{name}/{path}": text for path, text in emit(*build()).items()})
print(hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest())
"""


def _digest(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    here = str(Path(__file__).parent)
    result = subprocess.run([sys.executable, "-c", _PROGRAM, here], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_output_does_not_depend_on_the_hash_seed():
    assert _digest("1") == _digest("2024")
