"""A plain, non-editable install carries the grammar and the templates."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
                   check=True, timeout=300)
    (path,) = out.glob("mlc-*.whl")
    return path


def test_wheel_holds_grammar_and_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "compiler/_data/grammar/mlx.lark" in names
    templates = {n for n in names if n.startswith("compiler/_data/templates/")}
    expected = {f"compiler/_data/templates/{p.name}" for p in (ROOT / "templates").iterdir() if p.is_file()}
    assert expected and expected <= templates


def test_installed_wheel_checks_an_example(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                    str(wheel)], check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target)}
    # Run from a folder with no checkout in sight, so only the installed copy can be imported.
    result = subprocess.run([sys.executable, "-c",
                             "import compiler.resources as r, compiler.cli as c, sys;"
                             "assert '_data' in str(r.grammar_path()), r.grammar_path();"
                             "sys.exit(c.main(['check', sys.argv[1]]))", str(ROOT / "examples" / "rtmdet.mlx")],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
