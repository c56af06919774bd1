"""examples/permember.mlx run locally: each evaluation read exactly its own
training, each partial selection the members of its learning rate, and each
zipped pair its own training."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

LRS = ("0.1", "0.01", "0.001")


def test_a_local_run_reads_exactly_the_selected_members(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "compiler.cli", "run", "examples/permember.mlx", "-o", str(tmp_path), "--cores", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "done: 21 steps" in result.stdout, result.stdout
    work = tmp_path / "permember" / "work" / "local"
    for lr in LRS:
        for bs in ("16", "32"):
            assert (work / "eval" / lr / bs / "score.txt").read_text() == f"lr={lr} bs={bs}\n"
        assert (work / "best" / f"{lr}.txt").read_text() == f"lr={lr} bs=16\nlr={lr} bs=32\n"
    for lr, bs in zip(LRS, ("32", "16", "32")):
        model = (work / "export" / f"{lr}-{bs}.txt").read_text().splitlines()
        assert model == ["shard 0", "shard 1", "shard 2", f"lr={lr} bs={bs}"]
