"""The suite must fail, not skip, when mlc's own code cannot be imported."""

from __future__ import annotations

import re

from tests.conftest import ROOT

OWN_PACKAGE = re.compile(r"""importorskip\(\s*["']compiler[."']""")


def test_no_test_importorskips_mlcs_own_packages():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OWN_PACKAGE.search(line)
    ]
    assert not offenders, f"import mlc's own packages plainly (a broken import must fail): {offenders}"
