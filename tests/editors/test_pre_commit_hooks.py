"""The pre-commit hooks this repository offers (.pre-commit-hooks.yaml)."""

import re

import yaml
from editor_tooling import REPO

REQUIRED_KEYS = {"id", "name", "entry", "language"}


def hooks() -> dict[str, dict]:
    declared = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    return {hook["id"]: hook for hook in declared}


def test_hooks_are_declared_completely():
    declared = hooks()
    assert sorted(declared) == ["mlc-compile-check", "mlc-fmt"]
    for hook in declared.values():
        assert REQUIRED_KEYS <= set(hook), hook


def test_fmt_checks_each_changed_mlx_file():
    hook = hooks()["mlc-fmt"]
    assert hook["entry"] == "mlc fmt --check"
    assert hook.get("pass_filenames", True)
    assert re.search(hook["files"], "experiments/sites/hse.mlx")
    assert not re.search(hook["files"], "notes.mlx.bak")


def test_compile_check_compiles_the_configured_experiments_not_the_changed_files():
    hook = hooks()["mlc-compile-check"]
    assert hook["entry"] == "mlc compile --check"
    assert hook["pass_filenames"] is False
    assert re.search(hook["files"], "examples/rtmdet.mlx")
