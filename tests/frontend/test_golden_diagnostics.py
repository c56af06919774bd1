"""Golden diagnostics: every file under tests/frontend/bad/ is checked with
`mlc check`, every file under tests/placement/bad/ is planned with `mlc plan`,
and the whole of standard error must equal the .expected file byte for byte.
Every error code the checker and the placer can report from a source file has
at least one file here, and docs/errors.md shows each of them as it is."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from compiler.cli import main
from tests.conftest import ROOT, update_golden

COMMAND_OF = {ROOT / "tests" / "frontend" / "bad": "check", ROOT / "tests" / "placement" / "bad": "plan"}
CASES = sorted(p for folder in COMMAND_OF for p in folder.glob("*.mlx"))


def _args(path: Path) -> list[str]:
    """A first line `// args: ...` adds command-line arguments."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    m = re.match(r"//\s*args:\s*(.*)", first)
    return shlex.split(m.group(1)) if m else []


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden(path: Path, in_root, capsys):
    rel = path.relative_to(ROOT).as_posix()
    status = main([COMMAND_OF[path.parent], rel, *_args(path)])
    err = capsys.readouterr().err
    expected_file = path.with_suffix(".expected")
    if update_golden():
        expected_file.write_text(err, encoding="utf-8")
    assert status == 1, "a bad input must exit with status 1"
    assert err == expected_file.read_text(encoding="utf-8")
    code = path.stem.split("_")[0]
    assert f"[{code}]" in err, f"{path.name} is named for {code} but does not report it"


ERRORS_DOC = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")


def test_every_documented_code_has_a_golden_case():
    documented = set(re.findall(r"^### (E0[1-8]\d\d)", ERRORS_DOC, re.M))
    covered = {p.stem.split("_")[0] for p in CASES}
    reachable_only_without_the_checker = {"E0801", "E0802"}  # E0701 reports these first
    reachable_only_with_a_kind_that_hosts_no_services = {"E0702"}  # every kind hosts them now
    assert documented, "docs/errors.md lists no codes"
    missing = documented - covered - reachable_only_without_the_checker - reachable_only_with_a_kind_that_hosts_no_services
    assert not missing, f"codes without a golden case: {sorted(missing)}"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_the_documentation_shows_the_real_output(path: Path):
    """docs/errors.md quotes each golden output verbatim: it cannot drift."""
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").rstrip("\n")
    assert expected in ERRORS_DOC, f"docs/errors.md does not show the output of {path.name}"
