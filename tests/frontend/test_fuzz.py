"""Property tests: no input, however mangled, crashes the checker. Each run
either checks clean or reports diagnostics whose positions lie inside the
file that was read."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.cli import main
from compiler.frontend import load
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").rglob("*.mlx"))
SOURCES = {p: p.read_bytes() for p in EXAMPLES}


def _check_bytes(tmp_path: Path, data: bytes, name: str = "fuzz.mlx") -> None:
    path = tmp_path / name
    path.write_bytes(data)
    # Imports of the examples stay resolvable: the fuzzed file sits next to a copy of sites/.
    experiment, diags, sources = load(str(path))
    items = diags.sorted()
    if experiment is None:
        assert items, "an experiment that failed to load must say why"
    text = data.decode("utf-8", errors="replace")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # as the loader reads it
    for d in items:
        if d.span is None:
            continue
        assert d.span.line >= 1 and d.span.column >= 1
        if d.span.file == str(path):
            assert d.span.line <= len(lines) + 1, (d, len(lines))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "sites").mkdir()
    for p in (ROOT / "examples" / "sites").glob("*.mlx"):
        (root / "sites" / p.name).write_bytes(p.read_bytes())
    return root


def _mutations():
    example = st.sampled_from(EXAMPLES)

    def tokens(data: bytes) -> list[bytes]:
        return data.split(b" ")

    delete = st.tuples(example, st.integers(0, 10**6), st.integers(1, 40)).map(
        lambda t: (lambda d, i, n: d[: i % (len(d) + 1)] + d[i % (len(d) + 1) + n:])(SOURCES[t[0]], t[1], t[2]))
    truncate = st.tuples(example, st.integers(0, 10**6)).map(
        lambda t: SOURCES[t[0]][: t[1] % (len(SOURCES[t[0]]) + 1)])
    insert = st.tuples(example, st.integers(0, 10**6), st.binary(min_size=1, max_size=8)).map(
        lambda t: (lambda d, i, b: d[: i % (len(d) + 1)] + b + d[i % (len(d) + 1):])(SOURCES[t[0]], t[1], t[2]))

    def swap_tokens(t):
        toks = tokens(SOURCES[t[0]])
        i, j = t[1] % len(toks), t[2] % len(toks)
        toks[i], toks[j] = toks[j], toks[i]
        return b" ".join(toks)

    def dup_token(t):
        toks = tokens(SOURCES[t[0]])
        i = t[1] % len(toks)
        return b" ".join(toks[:i] + [toks[i]] + toks[i:])

    def drop_token(t):
        toks = tokens(SOURCES[t[0]])
        i = t[1] % len(toks)
        return b" ".join(toks[:i] + toks[i + 1:])

    # Hostile pieces rather than random bytes: line ends of other systems,
    # control characters, deep brackets, long indentation, huge numbers.
    hostile = st.sampled_from([b"\r", b"\r\n", b"\x00", b"\x1b", b"[" * 150, b"{" * 150,
                               b" " * 2000, b"9" * 5000, b"1e400", b"-1", b"a" * 200, b"\\0"])
    insert_hostile = st.tuples(example, st.integers(0, 10**6), hostile).map(
        lambda t: (lambda d, i, b: d[: i % (len(d) + 1)] + b + d[i % (len(d) + 1):])(SOURCES[t[0]], t[1], t[2]))
    cr_only = example.map(lambda e: SOURCES[e].replace(b"\n", b"\r"))

    idx = st.tuples(example, st.integers(0, 10**6), st.integers(0, 10**6))
    return st.one_of(delete, truncate, insert, insert_hostile, cr_only, idx.map(swap_tokens),
                     idx.map(dup_token), idx.map(drop_token))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_mutations())
def test_mutated_examples_never_crash(workdir, data):
    _check_bytes(workdir, data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_random_bytes_never_crash(workdir, data):
    _check_bytes(workdir, data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(list('{}[]()=:;,."$\\/x 4h\n') + [
    "stage", "site", "service", "template", "in", "out", "for", "run", "${", '"""', "GiB", "a100",
    "local", "slurm", "partition", "cpus", "memory", "8GiB", "12h", "file", "//", "a", "b"]), max_size=60))
def test_random_token_soup_never_crashes(workdir, pieces):
    _check_bytes(workdir, " ".join(pieces).encode("utf-8"))


@pytest.mark.parametrize("data", [
    b"", b"\x00\x01\x02", b"\xff\xfe\xfd", b"stage", b'stage a { run = "' + b"x" * 10_000_000,
    b"stage a {" * 5000, b"// only a comment", b'"""', b"x" * 1_000_000,
    b" " * 100_000 + b"@", b"param p: list[int] = " + b"[" * 100_000 + b"]" * 100_000, b"stage a\r// c\rstage a {}\r",
    # A digit outside ASCII: the patterns' \d matches it, the scanner's table of first characters had none.
    "\u0660".encode(), "param p: int = \u0661\u0662\nparam q: int = 3 + \u0663\n".encode(),
], ids=["empty", "binary", "not-utf8", "keyword", "10MB-line", "deep", "comment", "triple-quote", "1MB-name",
        "long-indentation", "deep-list", "cr-only", "arabic-indic-digit", "arabic-indic-number"])
def test_pathological_inputs(workdir, data, capsys):
    path = workdir / "patho.mlx"
    path.write_bytes(data)
    status = main(["check", str(path)])
    out = capsys.readouterr()
    assert status in (0, 1)
    assert "Traceback" not in out.err and "internal error" not in out.err
    if status == 1:
        assert "error[" in out.err
        assert max(len(line) for line in out.err.split("\n")) < 400, "long lines are cut in reports"
