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
from hypothesis import HealthCheck, given, settings
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


def test_a_nul_in_an_import_path_is_reported_not_followed(tmp_path, capsys):
    # The loader once passed the path to the file system: ValueError, exit 3.
    _assert_positioned(*_check(tmp_path, 'import "a\x00b.mlx"\n' + SITE, capsys), "E0110")


def test_an_output_name_no_file_system_can_create_is_an_error(tmp_path, capsys):
    long_name = "x" * 256
    text = SITE + f'stage a {{ out o = file("res/{long_name}.txt"); run = "true" }}\n'
    status, err = _check(tmp_path, text, capsys)
    _assert_positioned(status, err, "E0310")
    assert "260 bytes long" in err  # 256 x and ".txt"


def test_control_characters_in_a_file_name_do_not_reach_the_terminal(tmp_path, capsys):
    status, err = _check(tmp_path, "stage {\n", capsys, name="bad\x1b[2Jname.mlx")
    assert status == 1 and "\x1b" not in err and "bad\u241b[2Jname.mlx:" in err, err


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


# --- property tests: hostile values in every field of every declaration -----

# One experiment using every kind of declaration; each entry is a block whose
# fields the strategies below overwrite one at a time.
_BLOCKS: list[tuple[str, dict[str, str]]] = [
    ("experiment e", {"description": '"d"', "objective": "makespan", "deadline": "48h", "budget": "100"}),
    ("secret tok", {"env": '"TOKEN"'}),
    ("site hpc : slurm", {"login": '"login.example"', "account": '"acct"', "qos": '"normal"',
                          "modules": '["cuda"]', "scratch": '"/scratch"', "gpu_directive": "gres",
                          "container": "apptainer"}),
    ("  partition gpu", {"nodes": "2", "cpus": "8", "memory": "64GiB", "gpus": "2 x a100",
                         "max_time": "24h", "price": "1/h", "speed": "2"}),
    ("site k8s : kubernetes", {"context": '"ctx"', "namespace": '"ns"', "volume": '"pvc"',
                               "image_pull_secrets": '["regcred"]', "default_image": '"python:3.12"'}),
    ("  pool p", {"nodes": "2", "cpus": "8", "memory": "32GiB", "price": "2/h",
                  "selector": '{"zone": "a"}', "tolerations": '["gpu=true:NoSchedule"]'}),
    ("site ws : local", {"cpus": "4", "memory": "8GiB", "workdir": '"work"', "speed": "1"}),
    ("link ws <-> hpc", {"bandwidth": "1Gbps", "latency": "5ms", "egress": "0.01/GB"}),
    ("dataset raw", {"uri": '"data/raw"', "size": "1GB", "at": "ws"}),
    ("stage prep", {"in r": "raw", "out o": 'file("prep/out.txt", size = 1MB)',
                    "run": '"cp ${in.r} ${out.o}"', "cpus": "1", "memory": "1GiB", "time": "1h",
                    "estimate": "5m", "retries": "1", "env": '{"A": "b", "T": tok}', "on": "ws",
                    "image": '"python:3.12"'}),
    ("stage train for lr in [0.1, 0.01]", {"in d": "prep.o", "out m": 'file("m/${lr}.bin")',
                                           "run": '"train --lr ${lr} ${in.d} ${out.m} ${p}"',
                                           "gpus": "1", "not_on": "k8s", "after": "[prep]",
                                           "estimate": "{a100: 1h}"}),
    ("service api", {"image": '"nginx"', "port": "8080", "health": '"/healthz"', "replicas": "1"}),
]
_CLOSE_AFTER = {"  partition gpu": True, "  pool p": True}  # pools close their site too


def _render(blocks: list[tuple[str, dict[str, str]]], param: str = '"v"') -> str:
    out = [f"param p: str = {param}"]
    for header, fields in blocks:
        body = "".join(f"  {k} = {v}\n" for k, v in fields.items())
        if header.startswith("site") and header.endswith(("slurm", "kubernetes")):
            out.append(f"{header} {{\n{body}")  # its pool block follows and closes it
        elif header in _CLOSE_AFTER:
            out.append(f"{header} {{\n{body}  }}\n}}")
        else:
            out.append(f"{header} {{\n{body}}}")
    return "\n".join(out) + "\n"


def test_the_base_experiment_is_clean(tmp_path, capsys):
    status, err = _check(tmp_path, _render(_BLOCKS), capsys)
    assert status == 0, err


_HOSTILE_PIECES = [
    "'", '"', "\\", "$(touch /tmp/pwned)", "`id`", "${p}", "$$", "$HOME", "\n", "\r", "\t",
    "\x00", "\x1b[2J", "\x7f", "{{ x }}", "{% if %}", "{x}", "{{", "}}", ": ", "- ", "&a", "*a",
    "!!python/object/apply:os.system", "#", "//", "/*", "..", "/etc/passwd", "-rf", "--", "é",
    "\u202e", "😀", "\u2028", ";", "|", "&&", ">", "<", "[", "]", "(", ")", "x" * 3000, " ",
    '"""', "%", "@",
]
_RAW_VALUES = [
    "0", "-0", "-1", "1e400", "-1e400", "1e-400", "9" * 5000, "2147483648", "18446744073709551616",
    "0.1", "-5GiB", "1e400GiB", "0GiB", "-1h", "1e400h", "0h", "-1/h", "1e400/h", "-1/GB",
    "0Gbps", "-1Gbps", "1e400Gbps", "0 x a100", "99999999999 x a100", "-1 x a100", "true",
    "[]", "{}", "[" * 150 + "]" * 150, "{" * 150, "f(" * 150, "ws.nowhere", "nowhere",
    "a" * 200, "weighted(time = -1, cost = 1e400)", "file(\"/etc/passwd\")", "file(\"../x\")",
    "dir(\"\")", "[ws, ws]", '{"": ""}', '{"A B": "x"}', "in", "out", "stage", "@", "$", "\x00",
    '"""\n' + "x\n" * 5 + '"""',
]


def _mlx_string(text: str) -> str:
    """A string literal holding `text` as far as the language lets it; the
    control characters stay raw, for the checker to refuse."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_HOSTILE_TEXT = st.lists(st.sampled_from(_HOSTILE_PIECES) | st.text(max_size=8), min_size=1,
                         max_size=6).map("".join)
_VALUE = (_HOSTILE_TEXT.map(_mlx_string) | st.sampled_from(_RAW_VALUES)
          | _HOSTILE_TEXT)  # bare hostile text: syntax errors must be positioned too
_FIELDS = [(i, name) for i, (_, fields) in enumerate(_BLOCKS) for name in fields]


@st.composite
def _hostile_sources(draw) -> str:
    blocks = [(h, dict(f)) for h, f in _BLOCKS]
    for _ in range(draw(st.integers(1, 3))):
        index, name = draw(st.sampled_from(_FIELDS))
        blocks[index][1][name] = draw(_VALUE)
    param = draw(st.just('"v"') | _VALUE)
    return _render(blocks, param)


_PROPERTY = settings(max_examples=120, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@_PROPERTY
@given(_hostile_sources())
def test_check_answers_any_field_with_a_position(tmp_path, capsys, source):
    status, err = _check(tmp_path, source, capsys)
    assert status in (0, 1), err
    if status == 1:
        _assert_positioned(status, err)
    assert "Traceback" not in err and "\x1b" not in err and "\x00" not in err


@_PROPERTY
@given(_hostile_sources().filter(lambda s: "\x00" not in s), st.sampled_from(["", "'x'", "1", "[1]"]))
def test_overrides_answer_with_a_position(tmp_path, capsys, source, override):
    status, err = _check(tmp_path, source, capsys, "-p", f"p={override}")
    assert status in (0, 1), err


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(_hostile_sources())
def test_compile_never_crashes_or_hangs_and_writes_no_control_characters(tmp_path_factory, source):
    """Through the real command line, with a timeout: exit 0 or 1, never 3;
    what it writes holds no NUL or escape character."""
    folder = tmp_path_factory.mktemp("compile")
    path = folder / "exp.mlx"
    path.write_bytes(source.encode("utf-8", "surrogatepass"))
    out = folder / "out"
    result = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", str(path), "-o", str(out)],
                            cwd=ROOT, capture_output=True, timeout=120)
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode in (0, 1), err
    if result.returncode == 1:
        _assert_positioned(1, err)
    for written in out.rglob("*") if out.exists() else ():
        if written.is_file():
            data = written.read_bytes()
            assert b"\x00" not in data and b"\x1b" not in data, written


def test_json_diagnostics_of_hostile_input_are_valid_json(tmp_path, capsys):
    source = _render(_BLOCKS).replace('"d"', '"a\x00b"').replace("8GiB", "1e400GiB")
    path = tmp_path / "exp.mlx"
    path.write_text(source)
    assert main(["check", str(path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out or "{}") or None
    assert report is None or all(d["span"] for d in report["diagnostics"])


_PRINTABLE_HOSTILE = [
    "'", '"', "\\", "$(touch /tmp/pwned)", "`id`", "$$", "{{ x }}", "{% if %}", "{x}", "}{", ": ",
    "- a", "&a", "*a", "!!python/object/apply:os.system ['id']", "#x", "--force", "-rf", "é😀\u202e",
    "x" * 3000, "a\nb", "\t", "%s%n", "null", "~", "yes", "0x1F",
]


@pytest.mark.parametrize("text", _PRINTABLE_HOSTILE, ids=range(len(_PRINTABLE_HOSTILE)))
def test_compile_takes_any_printable_string_in_free_text_fields(tmp_path, capsys, text):
    """Values a user may legitimately write: compile writes its files (exit 0),
    or refuses with a positioned error; never an internal error."""
    blocks = [(h, dict(f)) for h, f in _BLOCKS]
    literal = _mlx_string(text)
    blocks[0][1]["description"] = literal
    blocks[9][1]["env"] = '{"A": ' + literal + ', "T": tok}'
    path = tmp_path / "exp.mlx"
    path.write_text(_render(blocks, literal))
    status = main(["compile", str(path), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status in (0, 1), err
    if status == 1:
        _assert_positioned(status, err)


@pytest.mark.parametrize("case", sorted((ROOT / "tests" / "frontend" / "bad").glob("E0[15]*.mlx")),
                         ids=lambda p: p.stem)
def test_syntax_and_string_errors_render_as_json(in_root, capsys, case):
    """Syntax and string errors carried parser positions, not spans: the
    JSON renderer failed on them (exit 3)."""
    status = main(["check", str(case.relative_to(ROOT)), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 1 and report["errors"] >= 1
    assert all(d["span"] is not None for d in report["diagnostics"] if d["code"] != "E0107")


def test_a_negative_objective_weight_is_an_error(tmp_path, capsys):
    text = "experiment e { objective = weighted(time = -1, cost = 1) }\n" + SITE
    status, err = _check(tmp_path, text, capsys)
    _assert_positioned(status, err, "E0306")
    assert "exp.mlx:1:44: error[E0306]" in err, err


@pytest.mark.parametrize("option", [["--budget", "-5"], ["--budget", "inf"], ["--budget", "nan"],
                                    ["--deadline", "99999999999999999999999h"]])
def test_nonsense_budgets_and_deadlines_on_the_command_line_are_usage_errors(in_root, capsys, option):
    with pytest.raises(SystemExit) as exit_:
        main(["plan", "examples/quickstart.mlx", *option])
    assert exit_.value.code == 2
    assert option[1] in capsys.readouterr().err


def test_the_language_reference_states_the_limits_of_limits_py():
    doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Ranges and limits"):]
    for value in (L.MAX_NESTING, L.MAX_NAME_LENGTH, L.MAX_IMPORT_DEPTH, L.MAX_SWEEP_MEMBERS,
                  L.MAX_STAGE_INSTANCES, L.MAX_POOL_NODES, L.MAX_RETRIES, L.MAX_INT):
        assert str(value) in section, value
    assert f"{(L.MAX_SIZE + 1) // 1024**5}PiB" in section and f"{L.MAX_DURATION / 86400:g}d" in section
