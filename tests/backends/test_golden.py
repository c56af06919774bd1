"""The generated folder, byte for byte, against tests/backends/golden/.
After an intended change: MLC_UPDATE_GOLDEN=1 python -m pytest tests/backends/test_golden.py
and review the diff. The placement pictures are left out: placement owns and
tests them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import builders
import pytest

from compiler.backends import emit

GOLDEN = Path(__file__).parent / "golden"
CASES = {"quickstart": builders.quickstart, "multisite": builders.multisite}
_PICTURES = {"gantt.svg", "graph.svg", "graph.mmd"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_matches_golden(case):
    files = {path: text for path, text in emit(*CASES[case]()).items() if path not in _PICTURES}
    folder = GOLDEN / case
    if os.environ.get("MLC_UPDATE_GOLDEN") == "1":
        shutil.rmtree(folder, ignore_errors=True)
        for path, text in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(text, encoding="utf-8")
    expected = {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file()
    }
    assert sorted(files) == sorted(expected), "files added or removed (MLC_UPDATE_GOLDEN=1 to accept)"
    for path in sorted(files):
        assert files[path] == expected[path], f"{case}/{path} differs (MLC_UPDATE_GOLDEN=1 to accept)"
