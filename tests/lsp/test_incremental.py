"""The language server reuses the syntax tree of a text it has parsed before
(lsp_analysis.Parses). Over random sequences of edits to a document and to
the file it imports, some of them undone, the analysis with reuse gives the
same diagnostics and the same syntax trees as a check from scratch: parsing
depends on nothing but the text and the path, and no later pass changes a
tree."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.diagnostics import Diagnostics
from compiler.editors.lsp_analysis import Parses, analyse

DATA = Path(__file__).resolve().parent / "data"
MAIN = (DATA / "rtmdet.mlx").read_text()
SITES = (DATA / "sites" / "hse.mlx").read_text()

# Pieces an edit inserts: tokens, broken syntax, a line break, names in use.
PIECES = ["x", " ", "\n", "}", "{", "=", '"', "//", "1", "12h", "4 x a100", "stage s { }",
          "cpus = 2", "train", "lr", "${lr}", "hse", "import \"sites/hse.mlx\"\n", ";", "..."]


@st.composite
def edits(draw):
    """(which file, position as a fraction, characters deleted, text inserted) or an undo."""
    if draw(st.integers(0, 5)) == 0:
        return ("undo",)
    return ("edit", draw(st.sampled_from(["main", "sites"])), draw(st.floats(0, 1)),
            draw(st.integers(0, 8)), draw(st.sampled_from(PIECES)))


def apply(text: str, where: float, delete: int, insert: str) -> str:
    at = int(where * len(text))
    return text[:at] + insert + text[at + delete:]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(edits(), min_size=1, max_size=6))
def test_reuse_gives_the_diagnostics_of_a_check_from_scratch(tmp_path, steps):
    shutil.copytree(DATA, tmp_path, dirs_exist_ok=True)
    main, sites = str(tmp_path / "rtmdet.mlx"), str(tmp_path / "sites" / "hse.mlx")
    texts = {"main": MAIN, "sites": SITES}
    history = [dict(texts)]
    parses = Parses()
    analyse(main, {os.path.realpath(main): MAIN}, parses)  # the document as opened
    for step in steps:
        if step[0] == "undo" and len(history) > 1:
            history.pop()
            texts = dict(history[-1])
        elif step[0] == "edit":
            _, which, where, delete, insert = step
            texts = {**texts, which: apply(texts[which], where, delete, insert)}
            history.append(dict(texts))
        # Both open in the editor: the imported file is read from its buffer.
        buffers = {os.path.realpath(main): texts["main"], os.path.realpath(sites): texts["sites"]}
        reused = analyse(main, buffers, parses)
        fresh = analyse(main, buffers)
        assert reused.diagnostics == fresh.diagnostics
        assert reused.modules == fresh.modules


def test_an_unchanged_text_is_not_parsed_again():
    parses = Parses()
    first_diags, again_diags = Diagnostics(), Diagnostics()
    broken = MAIN.replace("param epochs: int = 12", "param epochs: int = = 12")
    assert parses.parse(broken, "a.mlx", first_diags) is None
    assert parses.parse(MAIN, "b.mlx", Diagnostics()) is parses.parse(MAIN, "b.mlx", Diagnostics())
    assert parses.parse(broken, "a.mlx", again_diags) is None
    assert again_diags.items == first_diags.items != []  # the syntax error, reported again
    edited = MAIN + "\n"
    assert parses.parse(edited, "b.mlx", Diagnostics()) is not parses.parse(MAIN, "b.mlx", Diagnostics())


def test_the_least_recently_parsed_files_are_forgotten():
    parses = Parses(limit=2)
    trees = [parses.parse(MAIN, f"{n}.mlx", Diagnostics()) for n in range(3)]
    assert parses.parse(MAIN, "2.mlx", Diagnostics()) is trees[2]
    assert parses.parse(MAIN, "0.mlx", Diagnostics()) is not trees[0]
