"""Hostile input to the front end (issue 18, classes 3-5): whatever a user
writes, `mlc check` and `mlc compile` answer with positioned diagnostics,
never with an internal error (exit 3), never by hanging, and never by
accepting nonsense (a negative price, a zero speed, a sweep that repeats a
value). The regression cases come first, then property tests that push
hostile values into every field of every declaration."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from compiler.cli import main
from compiler.frontend import limits as L
from tests.conftest import ROOT

SITE = "site ws : local { cpus = 4; memory = 8GiB }\n"
POSITION = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+): error\[(?P<code>E\d{4})\]", re.M)


def _check(tmp_path: Path, text: str | bytes, capsys, *args: str, name: str = "exp.mlx") -> tuple[int, str]:
    path = tmp_path / name
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    status = main(["check", str(path), *args])
    return status, capsys.readouterr().err


def _codes(err: str) -> list[str]:
    return [m.group("code") for m in POSITION.finditer(err)]


def _assert_positioned(status: int, err: str, *codes: str) -> None:
    assert status == 1, err
    found = _codes(err)
    assert found, f"no positioned error in:\n{err}"
    for code in codes:
        assert code in found, f"{code} not reported:\n{err}"
    # every error line carries a position
    assert err.count("error[") == len(found), err


# --- class 3: crashes become diagnostics ------------------------------------

@pytest.mark.parametrize("value", [
    "[" * 600 + "]" * 600,
    '{"a": ' * 600 + "1" + "}" * 600,
    "f(" * 600 + ")" * 600,
])
def test_deep_values_are_a_nesting_error(tmp_path, capsys, value):
    status, err = _check(tmp_path, SITE + f'stage a {{ env = {value}; run = "true" }}\n', capsys)
    _assert_positioned(status, err, "E0109")


def test_deep_types_are_a_nesting_error(tmp_path, capsys):
    text = SITE + "param p: " + "list[" * 3000 + "int" + "]" * 3000 + " = []\n"
    _assert_positioned(*_check(tmp_path, text, capsys), "E0109")


def test_deep_override_is_a_nesting_error(tmp_path, capsys):
    text = SITE + 'param p: list[int] = []\nstage a { run = "true" }\n'
    status, err = _check(tmp_path, text, capsys, "-p", "p=" + "[" * 2000 + "]" * 2000)
    assert status == 1 and "E0109" in err, err


def test_a_long_chain_of_imports_is_an_error_not_a_recursion(tmp_path, capsys):
    for i in range(2000):
        (tmp_path / f"f{i}.mlx").write_text(f'import "f{i + 1}.mlx"\n' if i < 1999 else SITE)
    status = main(["check", str(tmp_path / "f0.mlx")])
    err = capsys.readouterr().err
    _assert_positioned(status, err, "E0109")
    assert f"f{L.MAX_IMPORT_DEPTH - 1}.mlx:1:8" in err


def test_a_chain_within_the_limit_checks(tmp_path, capsys):
    for i in range(L.MAX_IMPORT_DEPTH):
        (tmp_path / f"f{i}.mlx").write_text(f'import "f{i + 1}.mlx"\n' if i < L.MAX_IMPORT_DEPTH - 1 else SITE)
    assert main(["check", str(tmp_path / "f0.mlx")]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("field", [
    "memory = 1e400GiB", "time = 1e400h", "estimate = 1e999s", "cpus = " + "7" * 5000,
    "memory = 99999999999PiB",
])
def test_infinite_and_huge_quantities_are_out_of_range(tmp_path, capsys, field):
    status, err = _check(tmp_path, SITE + f'stage a {{ {field}; run = "true" }}\n', capsys)
    _assert_positioned(status, err, "E0313")


def test_an_infinite_float_is_out_of_range(tmp_path, capsys):
    text = "site ws : local { cpus = 4; memory = 8GiB; speed = 1e400 }\n"
    _assert_positioned(*_check(tmp_path, text, capsys), "E0313")


def test_a_zero_speed_is_an_error(tmp_path, capsys):
    text = "site ws : local { cpus = 4; memory = 8GiB; speed = 0 }\nstage a { run = \"true\" }\n"
    status, err = _check(tmp_path, text, capsys)
    _assert_positioned(status, err, "E0306")
    assert "`speed` must be more than zero" in err


def test_a_zero_speed_does_not_crash_compile(tmp_path, capsys):
    path = tmp_path / "exp.mlx"
    path.write_text("site ws : local { cpus = 4; memory = 8GiB; speed = 0 }\nstage a { run = \"true\" }\n")
    status = main(["compile", str(path), "-o", str(tmp_path / "out")])
    assert status == 1, capsys.readouterr().err


def test_a_long_name_is_an_error(tmp_path, capsys):
    text = SITE + "stage " + "a" * 1_000_000 + ' { run = "true" }\n'
    status, err = _check(tmp_path, text, capsys)
    _assert_positioned(status, err, "E0109")
    assert len(err) < 5000  # the line is cut, not echoed


def test_a_name_at_the_limit_is_fine(tmp_path, capsys):
    text = SITE + "stage " + "a" * L.MAX_NAME_LENGTH + ' { run = "true" }\n'
    assert _check(tmp_path, text, capsys)[0] == 0


def test_a_huge_sweep_axis_is_an_error(tmp_path, capsys):
    members = ",".join(str(i) for i in range(L.MAX_SWEEP_MEMBERS + 1))
    text = SITE + f'stage a for x in [{members}] {{ run = "echo ${{x}}" }}\n'
    _assert_positioned(*_check(tmp_path, text, capsys), "E0507")


def test_a_sweep_of_two_to_the_64_instances_is_an_error(tmp_path, capsys):
    axis = "[" + ",".join(str(i) for i in range(256)) + "]"
    axes = ", ".join(f"v{i} in {axis}" for i in range(8))
    text = SITE + f'stage a for {axes} {{ run = "true" }}\n'
    status, err = _check(tmp_path, text, capsys)
    _assert_positioned(status, err, "E0507")
    assert str(2**64) in err


def test_a_pool_of_a_billion_nodes_is_an_error(tmp_path, capsys):
    text = ('site s : slurm { partition p { nodes = 1000000000; cpus = 4; memory = 8GiB } }\n'
            'stage a { run = "true" }\n')
    status, err = _check(tmp_path, text, capsys)
    _assert_positioned(status, err, "E0306")
    assert f"must be at most {L.MAX_POOL_NODES}" in err


# --- class 4: no hangs: the lexer is linear ---------------------------------

def _run_check(path: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compiler.cli", "check", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("tail", ["@", '"unterminated', "$", "\x01"])
def test_long_space_runs_before_a_bad_character_lex_in_linear_time(tmp_path, tail):
    """The old skip pattern backtracked exponentially: 40 spaces took
    minutes. 100 KB of indentation must take seconds."""
    path = tmp_path / "exp.mlx"
    path.write_text(SITE + " " * 100_000 + tail + "\n")
    result = _run_check(path)
    assert result.returncode == 1, result.stderr
    assert re.search(r":2:100001: error\[E010[23]\]", result.stderr), result.stderr[:500]


def test_the_lexer_skip_pattern_is_linear():
    """Counted, not timed: the regex engine's work on the skip pattern. A
    possessive pattern matches `n` spaces before a bad character once; the
    old pattern retried every split of them."""
    from compiler.frontend.lexer import _SKIP_RE

    for n in (10, 1000, 100_000):
        assert _SKIP_RE.match(" " * n + "@").end() == n
    assert "++" in _SKIP_RE.pattern and _SKIP_RE.pattern.endswith(")*+")


# --- class 5: nonsense is refused --------------------------------------------

@pytest.mark.parametrize("text, code, culprit", [
    ('site s : slurm { partition p { cpus = 4; memory = 8GiB; price = -2/h } }\nstage a { run = "true" }\n',
     "E0313", "-2/h"),
    ('site s : slurm { partition p { cpus = 4; memory = 8GiB; speed = -1 } }\nstage a { run = "true" }\n',
     "E0306", "-1"),
    ('site s : slurm { partition p { cpus = 4; memory = 8GiB; speed = 0 } }\nstage a { run = "true" }\n',
     "E0306", "0 }"),
    (SITE + 'stage a { estimate = -5m; run = "true" }\n', "E0313", "-5m"),
    (SITE + 'stage a { estimate = {ws: -5m}; run = "true" }\n', "E0313", "-5m"),
    (SITE + 'stage a { time = -1h; run = "true" }\n', "E0313", "-1h"),
    (SITE + 'stage a { out o = file("o", size = -1GB); run = "true" }\n', "E0313", "-1GB"),
    (SITE + 'site b : local { cpus = 1; memory = 1GiB }\nlink ws -> b { bandwidth = 1Gbps; latency = -1s }\n',
     "E0313", "-1s"),
    (SITE + 'site b : local { cpus = 1; memory = 1GiB }\nlink ws -> b { bandwidth = 1Gbps; egress = -1/GB }\n',
     "E0313", "-1/GB"),
    (SITE + 'site b : local { cpus = 1; memory = 1GiB }\nlink ws -> b { bandwidth = 0Gbps }\n', "E0306", "0Gbps"),
    ('experiment e { budget = -10 }\n' + SITE, "E0306", "-10"),
    ('experiment e { deadline = 0h }\n' + SITE, "E0306", "0h"),
    (SITE + 'stage a { memory = -1GiB; run = "true" }\n', "E0313", "-1GiB"),
    (SITE + 'dataset d { uri = "x"; at = ws; size = -3GB }\n', "E0313", "-3GB"),
    (SITE + 'param t: duration = -1h\n', "E0313", "-1h"),
    (SITE + 'stage a for t in [1h, -1h] { time = t; run = "true" }\n', "E0313", "-1h"),
])
def test_negative_and_zero_quantities_are_errors_at_the_value(tmp_path, capsys, text, code, culprit):
    status, err = _check(tmp_path, text, capsys)
    _assert_positioned(status, err, code)
    offset = text.index(culprit)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    assert f"exp.mlx:{line}:{column}: error[{code}]" in err, err


@pytest.mark.parametrize("retries, ok", [(100, True), (101, False), (2**31, False), (2**64, False)])
def test_retries_have_a_documented_maximum(tmp_path, capsys, retries, ok):
    status, err = _check(tmp_path, SITE + f'stage a {{ retries = {retries}; run = "true" }}\n', capsys)
    assert (status == 0) == ok, err
    if not ok:
        _assert_positioned(status, err)


@pytest.mark.parametrize("members", ["0.1, 0.10", "1h, 60m", "1, 1.0", '"a", "b", "a"', '1, "1"',
                                     'true, "true"'])
def test_sweep_members_equal_by_value_are_duplicates(tmp_path, capsys, members):
    text = SITE + f'stage a for x in [{members}] {{ run = "echo ${{x}}" }}\n'
    _assert_positioned(*_check(tmp_path, text, capsys), "E0506")


def test_sweep_members_of_different_value_are_fine(tmp_path, capsys):
    text = SITE + 'stage a for x in [0.1, 0.01, 1, true, "one"] { run = "echo ${x}" }\n'
    assert _check(tmp_path, text, capsys)[0] == 0


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_cr_and_crlf_line_ends_keep_every_declaration_and_position(tmp_path, capsys, newline):
    lines = [SITE.rstrip("\n"), "// a comment", 'stage a { run = "true" }', 'stage a { run = "true" }']
    status, err = _check(tmp_path, newline.join(lines) + newline, capsys)
    _assert_positioned(status, err, "E0201")
    assert "exp.mlx:4:7: error[E0201]" in err, err


@pytest.mark.parametrize("string", ['"a\x00b"', '"""a\x00b"""', '"a\x1b[2Jb"', '"a\x7fb"', '"a\x85b"'])
def test_control_characters_in_strings_are_errors(tmp_path, capsys, string):
    status, err = _check(tmp_path, SITE + f"stage a {{ run = {string} }}\n", capsys)
    _assert_positioned(status, err, "E0110")
    assert "\x1b" not in err and "\x00" not in err  # nothing raw reaches the terminal


@pytest.mark.parametrize("escape", ["\\0", "\\r"])
def test_control_character_escapes_are_gone(tmp_path, capsys, escape):
    status, err = _check(tmp_path, SITE + f'stage a {{ run = "a{escape}b" }}\n', capsys)
    _assert_positioned(status, err, "E0105")


def test_a_control_character_in_a_name_is_an_error(tmp_path, capsys):
    _assert_positioned(*_check(tmp_path, SITE + 'stage a\x00b { run = "true" }\n', capsys), "E0102")


def test_a_nul_in_an_override_is_an_error(tmp_path, capsys):
    text = SITE + 'param p: str = "x"\nstage a { run = "echo ${p}" }\n'
    status, err = _check(tmp_path, text, capsys, "-p", 'p="a\x01b"')
    assert status == 1 and "E0110" in err, err
