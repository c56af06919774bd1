"""The LALR tables cached in the user's cache folder (parser_cache.py): the
parser read back parses exactly as the one built, a damaged or unwritable
cache only costs the build, and nothing is written anywhere else."""

from __future__ import annotations

import os
from pathlib import Path

from compiler.diagnostics import Diagnostics
from compiler.frontend import lalr, parser_cache, syntax

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = dict(parser="lalr", lexer=lalr.MlxLexer, start=["start", "value"], keep_all_tokens=True,
               maybe_placeholders=False)


def _parser(folder: Path | None, monkeypatch):
    monkeypatch.setenv("MLC_CACHE_DIR", "" if folder is None else str(folder))
    return parser_cache.cached_lark(lalr._grammar_text(), OPTIONS, lalr._Builder)


def _ast(parser, text: str, path: str):
    parser.options.transformer.file = path
    decls = parser.parse(text, start="start")
    finisher = syntax._Finisher(path, Diagnostics())
    for d in decls:
        finisher.decl(d)
    return decls


def test_the_cached_tables_parse_as_the_built_ones(tmp_path, monkeypatch):
    built = _parser(tmp_path, monkeypatch)
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == [f"parser-{parser_cache.key(lalr._grammar_text(), OPTIONS)}.pickle"]
    loaded = _parser(tmp_path, monkeypatch)
    assert loaded is not built and list(tmp_path.iterdir()) == files
    for example in sorted((ROOT / "examples").glob("*.mlx")):
        text = example.read_text(encoding="utf-8")
        assert _ast(loaded, text, example.name) == _ast(built, text, example.name), example.name


def test_a_damaged_cache_file_is_rebuilt(tmp_path, monkeypatch):
    _parser(tmp_path, monkeypatch)
    (cached,) = tmp_path.iterdir()
    cached.write_bytes(b"not a parser")
    parser = _parser(tmp_path, monkeypatch)
    assert _ast(parser, 'stage a {\n  run = "x"\n}\n', "a.mlx")[0].name == "a"
    assert cached.read_bytes() != b"not a parser"  # written again, whole


def test_a_cache_file_others_may_write_is_not_read(tmp_path, monkeypatch):
    _parser(tmp_path, monkeypatch)
    (cached,) = tmp_path.iterdir()
    cached.write_bytes(b"not a parser")  # would fail to load, were it read
    cached.chmod(0o666)
    parser = _parser(tmp_path, monkeypatch)
    assert _ast(parser, 'stage a {\n  run = "x"\n}\n', "a.mlx")[0].name == "a"
    assert cached.stat().st_mode & 0o777 == 0o600 and cached.read_bytes() != b"not a parser"


def test_no_cache_folder_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parser = _parser(None, monkeypatch)
    assert _ast(parser, 'stage a {\n  run = "x"\n}\n', "a.mlx")[0].name == "a"
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_cache_folder_is_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    parser = _parser(blocker / "mlc", monkeypatch)  # cannot be created: a file is in the way
    assert _ast(parser, 'stage a {\n  run = "x"\n}\n', "a.mlx")[0].name == "a"
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_the_key_follows_the_grammar_and_the_options():
    grammar = lalr._grammar_text()
    assert parser_cache.key(grammar, OPTIONS) == parser_cache.key(grammar, dict(OPTIONS))
    assert parser_cache.key(grammar + "\n", OPTIONS) != parser_cache.key(grammar, OPTIONS)
    assert parser_cache.key(grammar, {**OPTIONS, "start": ["start"]}) != parser_cache.key(grammar, OPTIONS)


def test_the_default_folder_is_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("MLC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert parser_cache.cache_dir() == tmp_path / "mlc"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parser_cache.cache_dir() == Path(os.path.expanduser("~")) / ".cache" / "mlc"
