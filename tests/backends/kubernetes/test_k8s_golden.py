"""The emitted sites, byte for byte: manifests and the exact kubectl command
lines of the scripts. After an intended change, regenerate with
`MLC_UPDATE_GOLDEN=1 python -m pytest tests/backends/kubernetes` and review
the diff."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MLC_UPDATE_GOLDEN") == "1"


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("variant", ["rtmdet", "rtmdet-split-own-volume", "distributed", "rtmdet-fetch", "publish"])
def test_emitted_site_matches_golden(emitted, variant):
    files = emitted[variant]
    root = GOLDEN / variant
    if UPDATE:
        for stale in root.rglob("*"):
            if stale.is_file() and str(stale.relative_to(root)) not in files:
                stale.unlink()
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
    expected = _tree(root)
    assert sorted(files) == sorted(expected), "files added or removed (MLC_UPDATE_GOLDEN=1 to accept)"
    for path, text in files.items():
        assert text == expected[path], f"{path} differs from golden (MLC_UPDATE_GOLDEN=1 to accept)"


_DIGEST = """
import hashlib, json, sys
sys.path.insert(0, sys.argv[1])
from conftest import variants
print(hashlib.sha256(json.dumps(variants(), sort_keys=True).encode()).hexdigest())
"""


def test_output_is_the_same_whatever_the_hash_seed():
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _DIGEST, str(Path(__file__).parent)],
            env={**os.environ, "PYTHONHASHSEED": seed}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for seed in ("0", "4242")
    ]
    outputs = [run.communicate() for run in runs]
    assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
    assert outputs[0][0] == outputs[1][0] != ""
