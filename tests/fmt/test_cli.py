"""`mlc fmt` on the command line: in place, --check, --diff, folders,
syntax errors, missing paths."""

from __future__ import annotations

import pytest

from compiler.cli import main

UGLY = 'param  lr:float=0.1\nstage s{cpus=1;memory=2GiB}\n'
CANONICAL = "param lr: float = 0.1\n\nstage s {\n  cpus = 1\n  memory = 2GiB\n}\n"


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.mlx").write_text(UGLY)
    (tmp_path / "sub" / "b.mlx").write_text(CANONICAL)
    (tmp_path / "notes.txt").write_text("not mlx {")
    return tmp_path


def test_formats_in_place_and_leaves_canonical_files_alone(tree, capsys):
    b_mtime = (tree / "sub" / "b.mlx").stat().st_mtime_ns
    assert main(["fmt", str(tree)]) == 0
    assert (tree / "a.mlx").read_text() == CANONICAL
    assert (tree / "sub" / "b.mlx").stat().st_mtime_ns == b_mtime
    assert (tree / "notes.txt").read_text() == "not mlx {"
    assert f"reformatted {tree / 'a.mlx'}" in capsys.readouterr().err


def test_check_lists_files_that_would_change_and_writes_nothing(tree, capsys):
    assert main(["fmt", "--check", str(tree)]) == 1
    assert capsys.readouterr().out.splitlines() == [str(tree / "a.mlx")]
    assert (tree / "a.mlx").read_text() == UGLY
    assert main(["fmt", "--check", str(tree / "sub")]) == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(tree, capsys):
    assert main(["fmt", "--diff", str(tree / "a.mlx")]) == 0
    out = capsys.readouterr().out
    assert f"--- a/{tree / 'a.mlx'}" in out
    assert "-param  lr:float=0.1" in out and "+param lr: float = 0.1" in out
    assert (tree / "a.mlx").read_text() == UGLY


def test_a_file_with_syntax_errors_is_reported_and_not_touched(tree, capsys):
    broken = "stage s { cpus = }\n"
    (tree / "c.mlx").write_text(broken)
    assert main(["fmt", str(tree)]) == 1
    err = capsys.readouterr().err
    assert "c.mlx:1:18: error[E0101]: unexpected `}`" in err
    assert (tree / "c.mlx").read_text() == broken
    assert (tree / "a.mlx").read_text() == CANONICAL  # the others are still formatted


def test_a_missing_path_is_a_usage_error(tmp_path, capsys):
    assert main(["fmt", str(tmp_path / "nope.mlx")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_keeps_the_file_mode(tree):
    (tree / "a.mlx").chmod(0o640)
    main(["fmt", str(tree / "a.mlx")])
    assert (tree / "a.mlx").stat().st_mode & 0o777 == 0o640


def test_the_examples_are_canonical(in_root, capsys):
    """The examples show the house style; `mlc fmt --check examples/` is clean."""
    status = main(["fmt", "--check", "--diff", "examples"])
    assert status == 0, capsys.readouterr().out


def test_a_file_that_is_not_utf8_is_reported(tmp_path, capsys):
    (tmp_path / "latin1.mlx").write_bytes(b"param name: str = \"caf\xe9\"\n")
    assert main(["fmt", str(tmp_path)]) == 1
    assert "error[E0104]: the file is not UTF-8 text" in capsys.readouterr().err
