"""The language server reuses the syntax tree of a text it has parsed before
and patches it after an edit inside a few declarations (lsp_parses). Over
random sequences of edits to a document and to the file it imports, some of
them undone, the analysis with reuse gives the same diagnostics and the same
syntax trees as a check from scratch; over random edits near tokens, a
patched parse is the parse of the whole text."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.diagnostics import Diagnostics
from compiler.editors.lsp_analysis import analyse
from compiler.editors.lsp_parses import Parses, patched
from compiler.frontend.syntax import parse_module

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


# --- patching a parse after an edit (lsp_parses.patched) ---

# A file with declarations of every kind, some sharing a line, with `;`
# and comments between them.
BASE = MAIN + """
stage a { run = "echo a" }  stage b { in x = a.out; run = "true" } ;
// between
param extra: int = 3; param more: int = extra

stage c {
  run = \"\"\"
    echo ${in.x}
  \"\"\"
  in x = b.x
}
stage d { run = "d" } stage e {
  run = "e"
}  stage f { run = "f" }
"""
EDIT_PIECES = PIECES + ["7", "a", "_2", "  ", "\n\n", "// c\n", "stage t { run = \"t\" }\n", "param q: int = 1\n",
                        "site", "\"\"\"", "\\", "(", ")", "[", "]", ",", "x"]


@st.composite
def text_edits(draw):
    """An edit near a token: a line, a column in it, characters deleted, text inserted."""
    lines = BASE.split("\n")
    line = draw(st.integers(0, len(lines) - 1))
    column = draw(st.integers(0, len(lines[line])))
    return line, column, draw(st.integers(0, 4)), draw(st.sampled_from(EDIT_PIECES))


def edit(text: str, line: int, column: int, delete: int, insert: str) -> str:
    lines = text.split("\n")
    line = min(line, len(lines) - 1)
    at = sum(len(x) + 1 for x in lines[:line]) + min(column, len(lines[line]))
    return text[:at] + insert + text[at + delete:]


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(text_edits(), min_size=1, max_size=4))
def test_a_patched_parse_is_the_parse_of_the_whole_text(steps):
    path = "/project/exp.mlx"
    assert parse_module(BASE, path, Diagnostics()) is not None
    parses = Parses()
    parses.parse(BASE, path, Diagnostics())
    text = BASE
    for step in steps:
        text = edit(text, *step)
        whole_diags, got_diags = Diagnostics(), Diagnostics()
        whole = parse_module(text, path, whole_diags)
        got = parses.parse(text, path, got_diags)
        assert got == whole
        assert got_diags.items == whole_diags.items


@pytest.mark.parametrize("old, new", [
    ('stage a { run = "echo a" }', 'stage a { run = "echo b" }'),  # inside a declaration
    ("param extra: int = 3;", "param extra: int = 30;"),  # a declaration sharing its line
    ("// between", "// between, edited"),  # a comment between declarations
    ("stage c {", "stage c2 {"),  # the header of a declaration spanning lines
    ('run = "e"', 'run = "e2"'),  # a line of one declaration, which shares lines with two others
])
def test_an_edit_inside_declarations_is_parsed_alone(old, new):
    path = "/project/exp.mlx"
    tree = parse_module(BASE, path, Diagnostics())
    edited = BASE.replace(old, new, 1)
    patched_tree = patched(BASE, tree, edited, path)
    assert patched_tree is not None and patched_tree == parse_module(edited, path, Diagnostics())
    reused = sum(any(d is t for t in tree.decls) for d in patched_tree.decls)
    assert reused >= len(tree.decls) - 3  # the others are the very objects of the old tree


def test_an_edit_that_breaks_the_syntax_is_not_patched():
    path = "/project/exp.mlx"
    tree = parse_module(BASE, path, Diagnostics())
    assert patched(BASE, tree, BASE.replace('"echo a"', '"echo a'), path) is None
    assert patched(BASE, tree, BASE.replace("stage c {", "stage c {{"), path) is None
