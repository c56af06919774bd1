"""Golden diagnostics: every file under bad/ is checked with `mlc check`, and
the whole of standard error must equal the .expected file byte for byte.
Every error code the front end can report has at least one file here."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from compiler.cli import main
from tests.conftest import ROOT, update_golden

BAD = ROOT / "tests" / "frontend" / "bad"
CASES = sorted(p for p in BAD.glob("*.mlx"))


def _args(path: Path) -> list[str]:
    """A first line `// args: ...` adds command-line arguments."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    m = re.match(r"//\s*args:\s*(.*)", first)
    return shlex.split(m.group(1)) if m else []


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden(path: Path, in_root, capsys):
    rel = path.relative_to(ROOT).as_posix()
    status = main(["check", rel, *_args(path)])
    err = capsys.readouterr().err
    expected_file = path.with_suffix(".expected")
    if update_golden():
        expected_file.write_text(err, encoding="utf-8")
    assert status == 1, "a bad input must exit with status 1"
    assert err == expected_file.read_text(encoding="utf-8")
    code = path.stem.split("_")[0]
    assert f"[{code}]" in err, f"{path.name} is named for {code} but does not report it"


def test_every_front_end_code_has_a_golden_case():
    documented = set(re.findall(r"^### (E0[1-7]\d\d)", (ROOT / "docs" / "errors.md").read_text(), re.M))
    covered = {p.stem.split("_")[0] for p in CASES}
    assert documented, "docs/errors.md lists no codes"
    assert documented <= covered, f"codes without a golden case: {sorted(documented - covered)}"
