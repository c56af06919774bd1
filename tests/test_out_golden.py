"""out/ holds every example compiled, committed so that a change's effect on
the generated artifacts shows in its diff. This test compiles each example
and compares with out/ byte for byte (`mlc compile --check`); regenerate with
`mlc compile examples/NAME.mlx` after a deliberate change, and review the diff."""

from __future__ import annotations

import pytest

from compiler.cli import main
from tests.conftest import ROOT

EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.mlx"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_out_is_what_the_example_compiles_to(example, in_root, capsys):
    rel = example.relative_to(ROOT).as_posix()
    status = main(["compile", rel, "--check"])
    captured = capsys.readouterr()
    assert status == 0, f"out/ is stale for {rel}; run `mlc compile {rel}`:\n{captured.err}"


def test_every_compiled_folder_has_its_example():
    names = {p.stem for p in EXAMPLES}
    folders = {p.name for p in (ROOT / "out").iterdir() if p.is_dir()}
    assert folders <= names, f"out/ has folders no example produces: {sorted(folders - names)}"
