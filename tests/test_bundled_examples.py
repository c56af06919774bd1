"""Every bundled example and catalog checks clean: they are documentation
that runs, so they must never rot."""

from __future__ import annotations

import pytest

from compiler.frontend import load
from compiler.diagnostics import render_text
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").rglob("*.mlx"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT / "examples")))
def test_example_checks_clean(path, in_root):
    experiment, diags, sources = load(str(path.relative_to(ROOT)))
    assert experiment is not None and not diags.items, render_text(diags.sorted(), sources)
