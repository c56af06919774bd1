"""The source line under a diagnostic: `load` lets the parsed text go and
reads the file again to show a line, only while it is the file parsed."""

from __future__ import annotations

import os

from compiler.diagnostics import render_text
from compiler.frontend import check, load

BAD = """experiment e {}

stage a {
  cpus = 1
  run = "true"
  out x = file("x.txt")
}

stage b {
  in y = a.nope
  run = "cat ${in.y}"
}
"""


def _rendered(path):
    experiment, diags, sources = load(str(path))
    assert experiment is None
    return diags, sources


def test_the_line_is_read_again_from_the_file(tmp_path):
    path = tmp_path / "exp.mlx"
    path.write_text(BAD, encoding="utf-8")
    diags, sources = _rendered(path)
    assert str(path) not in sources._texts  # let go after parsing
    text = render_text(diags.items, sources)
    assert "in y = a.nope" in text and "^" in text, text


def test_a_file_changed_since_it_was_parsed_shows_no_line(tmp_path):
    path = tmp_path / "exp.mlx"
    path.write_text(BAD, encoding="utf-8")
    diags, sources = _rendered(path)
    path.write_text(BAD.replace("in y = a.nope", "in y = a.x   "), encoding="utf-8")  # the same size
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a new time even on a coarse clock
    text = render_text(diags.items, sources)
    assert ":10:10: error[E0602]" in text and "`nope`" in text  # the place and the message stay
    assert "in y = a.x" not in text and "in y = a.nope" not in text, text


def test_the_language_server_keeps_its_texts(tmp_path):
    path = tmp_path / "exp.mlx"
    path.write_text(BAD, encoding="utf-8")
    _, _, diags, sources = check(str(path))
    path.unlink()
    assert "in y = a.nope" in render_text(diags.items, sources)
