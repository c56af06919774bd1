"""E0603: an output path written twice. Within a sweep, the help names the
sweep variables missing from the path, once per output."""

from __future__ import annotations

import textwrap

from compiler.frontend import load


def _errors(tmp_path, text: str, code: str = "E0603"):
    path = tmp_path / "exp.mlx"
    path.write_text(textwrap.dedent(text))
    _, diags, _ = load(str(path))
    return [d for d in diags.sorted() if d.code == code]


def _helps(d) -> list[str]:
    return [n.message for n in d.notes if n.kind == "help"]


def test_the_help_names_the_sweep_variable_missing_from_the_path(tmp_path):
    [error] = _errors(tmp_path, """
        stage train for lr in [0.1, 0.01], bs in [16, 32] {
          out ckpt = file("work/${lr}/best.pth")
          run = "train > ${out.ckpt}"
        }
        """)
    [hint] = _helps(error)
    assert "`${bs}`" in hint and "${lr}" not in hint


def test_a_sweep_collision_is_reported_once_per_output(tmp_path):
    errors = _errors(tmp_path, """
        stage train for seed in [1, 2, 3, 4] {
          out ckpt = file("work/best.pth")
          out log = file("work/${seed}.log")
          run = "train > ${out.ckpt}"
        }
        """)
    assert len(errors) == 1
    assert "`train[seed=1]`" in errors[0].message and "4 members" in errors[0].message
    assert "`${seed}`" in _helps(errors[0])[0]


def test_several_missing_variables_are_all_named(tmp_path):
    [error] = _errors(tmp_path, """
        stage train for a in [1, 2], b in ["x", "y"], c in [true, false] {
          out ckpt = file("work/${b}.pth")
          run = "train > ${out.ckpt}"
        }
        """)
    [hint] = _helps(error)
    assert "`${a}`" in hint and "`${c}`" in hint and "${b}" not in hint


def test_two_stages_writing_one_path(tmp_path):
    errors = _errors(tmp_path, """
        stage a { out o = file("same.txt"); run = "t" }
        stage b for k in [1, 2] { out o = file("same.txt"); run = "t" }
        """)
    between = [e for e in errors if "`a`" in e.message]
    assert len(between) == 1 and _helps(between[0]) == ["give each output its own path"]
    assert len(errors) == 2  # and b's members among themselves, once
