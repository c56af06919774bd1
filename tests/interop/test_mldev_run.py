"""An imported MLDev experiment runs to completion on this machine with its
project files found (issue 14: it failed on its first step, `src/prepare.py`
not being in the site's work tree)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from compiler.interop import import_mldev

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "mldev"

# The scripts of the project train_evaluate.yml describes: small, but real
# (each reads what the one before wrote).
SCRIPTS = {
    "src/prepare.py": """
import argparse, os, pickle, random
a = argparse.ArgumentParser()
a.add_argument("--size", type=int); a.add_argument("--test", type=float)
a.add_argument("--seed", type=int); a.add_argument("--out")
args = a.parse_args()
random.seed(args.seed)
rows = [random.random() for _ in range(args.size)]
cut = int(len(rows) * (1 - args.test))
os.makedirs(args.out, exist_ok=True)
pickle.dump(rows[:cut], open(os.path.join(args.out, "X_train.pickle"), "wb"))
pickle.dump(rows[cut:], open(os.path.join(args.out, "X_test.pickle"), "wb"))
""",
    "src/train.py": """
import argparse, pickle
a = argparse.ArgumentParser()
a.add_argument("--iters", type=int); a.add_argument("--model"); a.add_argument("--data"); a.add_argument("--out")
args = a.parse_args()
rows = pickle.load(open(args.data, "rb"))
pickle.dump({"kind": args.model, "mean": sum(rows) / len(rows)}, open(args.out, "wb"))
""",
    "src/evaluate.py": """
import argparse, json, pickle
a = argparse.ArgumentParser()
a.add_argument("--model"); a.add_argument("--data")
args = a.parse_args()
model, rows = pickle.load(open(args.model, "rb")), pickle.load(open(args.data, "rb"))
print(json.dumps({"model": model["kind"], "test_rows": len(rows)}))
""",
}


def test_an_imported_mldev_experiment_runs_with_its_project_files(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(DATA / "train_evaluate.yml", project / "train_evaluate.yml")
    for name, text in SCRIPTS.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text.lstrip())
    result = import_mldev(project / "train_evaluate.yml")
    assert result.diagnostics == []
    source = project / "train_evaluate.mlx"
    source.write_text(result.text)
    run = subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(tmp_path / "out")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
                         env={**os.environ, "USER": "tester"})
    assert run.returncode == 0, run.stdout + run.stderr
    tree = tmp_path / "out/train_evaluate/work/local"
    assert json.loads((tree / "results/metrics.json").read_text()) == {"model": "logreg", "test_rows": 200}
