"""The common indentation of a `run` command is a property of its source
lines, whatever `${in.x}` / `${out.x}` references sit on them."""

from __future__ import annotations

import textwrap

from hypothesis import example, given, strategies as st

from compiler import ir
from compiler.frontend.commands import trim_command
from tests.frontend.test_language import compile_text

PLACEHOLDER = "\uE000"  # stands for a port reference; never generated as text


def _as_text(parts: list) -> str:
    return "".join(p.text if isinstance(p, ir.Text) else PLACEHOLDER + p.name for p in parts)


def _oracle(parts: list) -> str:
    """textwrap.dedent on the text with every reference as a placeholder."""
    return textwrap.dedent(_as_text(parts)).lstrip("\n").rstrip()


def test_a_port_before_a_line_continuation_keeps_the_dedent(tmp_path):
    e = compile_text(tmp_path, '''
        site ws : local { cpus = 4; memory = 8GiB }
        stage a {
          in cfg = file("cfg.txt")
          out m = file("m.txt")
          run = """
            python - ${in.cfg} \\
              ${out.m} <<'PY'
            import sys
            if True:
                print(sys.argv)
            PY
          """
        }
        ''', files={"cfg.txt": ""})
    assert e.instances[0].command == [
        ir.Text(text="python - "), ir.PortRef(direction="in", name="cfg"), ir.Text(text=" \\\n  "),
        ir.PortRef(direction="out", name="m"),
        ir.Text(text=" <<'PY'\nimport sys\nif True:\n    print(sys.argv)\nPY"),
    ]


def test_a_line_that_starts_with_a_port_has_no_indentation(tmp_path):
    e = compile_text(tmp_path, 'stage a {\n  out o = file("o")\n  run = """\n    touch \\\n${out.o}\n  """\n}')
    assert e.instances[0].command == [ir.Text(text="    touch \\\n"), ir.PortRef(direction="out", name="o")]


_text = st.text(alphabet=" \t\n\\xy#", max_size=12)
_port = st.builds(lambda d, n: ir.PortRef(direction=d, name=n), st.sampled_from(["in", "out"]),
                  st.sampled_from(["a", "b"]))
_parts = st.lists(st.one_of(_text.map(lambda t: ir.Text(text=t)), _port), max_size=8)


@given(_parts)
@example([ir.Text(text="\n  "), ir.Text(text=" x\n   y")])  # the indent spans two text parts
@example([ir.Text(text="  a \\\n"), ir.PortRef(direction="in", name="a"), ir.Text(text=" \\\n  b")])
def test_dedent_equals_textwrap_dedent_with_placeholders(parts):
    trimmed = trim_command(parts)
    assert _as_text(trimmed) == _oracle(parts)
    # the references survive, in order, and no text part is empty or split
    assert [p for p in trimmed if isinstance(p, ir.PortRef)] == [p for p in parts if isinstance(p, ir.PortRef)]
    assert all(p.text for p in trimmed if isinstance(p, ir.Text))
    assert not any(isinstance(a, ir.Text) and isinstance(b, ir.Text) for a, b in zip(trimmed, trimmed[1:]))
