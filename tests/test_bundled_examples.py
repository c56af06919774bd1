"""Every bundled example and catalog checks clean: they are documentation
that runs, so they must never rot."""

from __future__ import annotations

import re

import pytest

from compiler.backends.shipping import project_paths_of
from compiler.frontend import load
from compiler.diagnostics import render_text
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").rglob("*.mlx"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT / "examples")))
def test_example_checks_clean(path, in_root):
    experiment, diags, sources = load(str(path.relative_to(ROOT)))
    assert experiment is not None and not diags.items, render_text(diags.sorted(), sources)


# `python[3] <script>.py` in a command, and the script a launcher (torchrun)
# starts: the first word of a launched stage's command.
_PYTHON_SCRIPT = re.compile(r"(?:^|[\s;&|(])python3?\s+([^\s-]\S*\.py)(?=\s|$)")
MAINS = [path for path in EXAMPLES if "sites" not in path.relative_to(ROOT / "examples").parts]


def _scripts(unit) -> list[str]:
    # A value is pasted as its text (a template parameter can name a config),
    # a port as a word that names no script.
    text = "".join(part.text if part.kind == "text" else part.value if part.kind == "value" else "<port>"
                   for part in unit.command)
    found = _PYTHON_SCRIPT.findall(text)
    first = text.split(maxsplit=1)[:1]
    if getattr(unit, "launch", None) is not None and first and first[0].endswith(".py"):
        found.append(first[0])
    return found


def _declared(path: str, declared) -> bool:
    return any(path == p.path or (p.kind == "dir" and path.startswith(p.path.rstrip("/") + "/")) for p in declared)


@pytest.mark.parametrize("path", MAINS, ids=lambda p: str(p.relative_to(ROOT / "examples")))
def test_example_scripts_are_in_the_project_and_shipped(path, in_root):
    """Every script an example runs with python (or launches with torchrun)
    is a file of the project and is declared (`code` or a file()/dir()
    input), so it reaches every site that runs the stage (issue 14)."""
    experiment, diags, sources = load(str(path.relative_to(ROOT)))
    assert experiment is not None, render_text(diags.sorted(), sources)
    project = path.parent
    for unit in [*experiment.instances, *experiment.services]:
        declared = [*experiment.code, *project_paths_of(unit)]
        for script in _scripts(unit):
            assert (project / script).is_file(), f"{path.name}: `{unit.id}` runs {script}, not in the project"
            assert _declared(script, declared), f"{path.name}: `{unit.id}` runs {script}, not in `code` nor file()"


def test_the_script_finder_finds_the_scripts():
    """Not vacuous: rtmdet's four scripts and distributed's torchrun script."""
    found = {}
    for name in ("rtmdet", "distributed"):
        experiment, _, _ = load(str((ROOT / "examples" / f"{name}.mlx").relative_to(ROOT)))
        found[name] = {script for unit in experiment.instances for script in _scripts(unit)}
    assert found["rtmdet"] == {"rtmdet/prepare.py", "rtmdet/train.py", "rtmdet/pick_best.py", "rtmdet/loadtest.py"}
    assert found["distributed"] == {"distributed/prepare.py", "distributed/train.py"}
