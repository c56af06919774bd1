"""A port's path is relative to the work tree: a URI there is an error that
says what to write instead (a data set), never `mkdir -p s3://bucket`."""

from __future__ import annotations

import textwrap

import pytest

from compiler.frontend import load
from compiler.frontend.stages import uri_scheme


def _diags(tmp_path, text: str):
    path = tmp_path / "exp.mlx"
    path.write_text(textwrap.dedent(text))
    experiment, diags, _ = load(str(path))
    return experiment, diags.sorted()


@pytest.mark.parametrize("port", ['out m = dir("s3://bucket/x")', 'out m = file("gs://b/m.bin")',
                                  'in m = file("https://example.org/cfg.py")',
                                  'in m = file("file:///etc/cfg.py")'])
def test_a_uri_where_a_path_is_expected_is_an_error_with_a_hint(tmp_path, port):
    experiment, diags = _diags(tmp_path, f'stage a {{\n  {port}\n  run = "true"\n}}\n')
    assert experiment is None
    [d] = diags
    assert (d.code, d.span.line, d.span.column) == ("E0314", 2, port.index('"') + 3)
    assert any("dataset" in n.message and "uri =" in n.message for n in d.notes if n.kind == "help")


@pytest.mark.parametrize("text, scheme", [("s3://b/x", "s3"), ("git+ssh://h/r", "git+ssh"),
                                          ("work/s3://x", None), ("a:b", None), ("./x", None),
                                          ("3s://x", None), ("", None)])
def test_uri_scheme(text, scheme):
    assert uri_scheme(text) == scheme


def test_relative_paths_with_colons_stay_paths(tmp_path):
    experiment, diags = _diags(tmp_path, 'stage a { out m = file("runs/t=1:2/m"); run = "true" }')
    assert experiment is not None and not diags


def test_inputs_through_linked_folders_are_judged_by_where_they_lead(tmp_path):
    """Only paths with a symbolic link on their way are resolved (issue 19:
    resolving every input file cost most of SoyKB's lowering); a folder
    linked inside the project is fine, one linked out of it is not."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("a")
    (tmp_path / "inside").symlink_to(tmp_path / "data")
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.txt").write_text("a")
    (tmp_path / "outside").symlink_to(elsewhere)
    stage = 'stage s {{ in x = file("{0}/a.txt"); in y = file("data/a.txt"); run = "true" }}\n'
    experiment, diags = _diags(tmp_path, stage.format("inside"))
    assert experiment is not None, diags
    experiment, diags = _diags(tmp_path, stage.format("outside"))
    assert [d.code for d in diags] == ["E0582"]
