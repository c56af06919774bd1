"""Issue 18, class 1 (and the command parts of classes 4 and 6): a hostile
value interpolated anywhere in a `run` command never runs as code and
arrives exactly. Each case compiles real .mlx source, then RUNS the generated
script with bash (the local script; a Slurm script's body without sbatch) and
checks what the command wrote and that no marker file appeared."""

from __future__ import annotations

import os
import posixpath
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from compiler.cli import main

MARKER = "pwned"
# CR, NUL and other control characters are refused where a string is written (E0110).
FRAGMENTS = [
    "'", '"', "`", "\\", "\n", "\t", " ", "$", "${HOME}", "$(touch pwned)", "`touch pwned`",
    "'$(touch pwned)'", '"$(touch pwned)"', "$'\\n'", "; touch pwned #", "-rf", "--help", "EOF", "PY",
    "}", "{", "*", "?", "~", "é", "🚀", "\u2028", "#SBATCH --array=0-999999999", "a[$(touch pwned)]",
]
# The sites of one value in every shell context of a command, and what each writes.
CONTEXTS = {
    "unquoted": ("printf '%s' ${p} > unquoted.txt", lambda v: v),
    "double": ("printf '%s' \"${p}\" > double.txt", lambda v: v),
    "single": ("printf '%s' '${p}' > single.txt", lambda v: v),
    "ansi": ("printf '%s' $'${p}' > ansi.txt", lambda v: v),
    "substitution": ("printf '%s' \"$(printf '%s' \"${p}\")\" > substitution.txt", lambda v: v.rstrip("\n")),
    "backticks": ("printf '%s' \"`printf '%s' ${p}`\" > backticks.txt", lambda v: v.rstrip("\n")),
    "comment": ("true # ${p}", None),
    "heredoc": ("cat <<END > heredoc.txt\n${p}\nEND", lambda v: v + "\n"),
    "quoted_heredoc": ("cat <<'END' > quoted_heredoc.txt\n${p}\nEND", lambda v: v + "\n"),
}

hostile = st.lists(
    st.sampled_from(FRAGMENTS) | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=4),
    max_size=8,
).map("".join)


def mlx_string(value: str) -> str:
    """`value` as an .mlx string literal."""
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t").replace("$", "$$"))
    return f'"{escaped}"'


def compile_source(folder: Path, source: str, *args: str) -> int:
    (folder / "exp.mlx").write_text(source, encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return main(["compile", "exp.mlx", "-o", "out", *args])
    finally:
        os.chdir(cwd)


def local_source(run: str, value: str, *, declare: str = "") -> str:
    return (
        'experiment hostile { description = "x" }\n'
        "site laptop : local { cpus = 2; memory = 4GiB }\n"
        f"param p: str = {mlx_string(value)}\n{declare}"
        f"stage a {{\n  estimate = 1s\n  run = {mlx_string_keep(run)}\n}}\n"
    )


def mlx_string_keep(run: str) -> str:
    """A `run` string whose `${p}` stay interpolations."""
    return '"' + run.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def run_script(script: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", script], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def assert_no_marker(*folders: Path) -> None:
    for folder in folders:
        assert not list(folder.rglob(MARKER)), "an injected command ran"


def run_everywhere(tmp: Path, value: str, *extra: str) -> tuple[int, Path]:
    run = "\n".join(site for site, _ in CONTEXTS.values())
    status = compile_source(tmp, local_source(run, "placeholder" if extra else value), *extra)
    return status, tmp / "out/hostile"


def check_outputs(work: Path, value: str) -> None:
    for name, (_, expected) in CONTEXTS.items():
        if expected is not None:
            assert (work / f"{name}.txt").read_bytes().decode("utf-8") == expected(value), name


def ends_quoted_heredoc(value: str) -> bool:
    return "END" in value.split("\n")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=hostile)
@example(value="$(touch pwned)")
@example(value='"; touch pwned; "')
@example(value="'; touch pwned; '")
@example(value="`touch pwned`")
@example(value="x\nEND\ntouch pwned")
@example(value="-n")
@example(value="x" * 3000)
@example(value="#SBATCH --array=0-999999999\n")
def test_a_param_value_in_every_context_arrives_exactly(tmp_path_factory, value):
    tmp = tmp_path_factory.mktemp("p")
    status, out = run_everywhere(tmp, value)
    if ends_quoted_heredoc(value):
        assert status == 1  # E0511, never emitted
        return
    assert status == 0
    done = run_script(out / "local/laptop/a.sh", out, MLC_WORKDIR="w")
    assert done.returncode == 0, done.stderr
    check_outputs(out / "w", value)
    assert_no_marker(tmp)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=hostile)
@example(value="$(touch pwned)\n'\"`touch pwned`")
def test_a_p_override_in_every_context_arrives_exactly(tmp_path_factory, value):
    assume(not ends_quoted_heredoc(value))
    tmp = tmp_path_factory.mktemp("o")
    status, out = run_everywhere(tmp, value, "-p", f"p={mlx_string(value)}")
    assert status == 0
    done = run_script(out / "local/laptop/a.sh", out, MLC_WORKDIR="w")
    assert done.returncode == 0, done.stderr
    check_outputs(out / "w", value)
    assert_no_marker(tmp)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.lists(hostile, min_size=2, max_size=3, unique=True))
def test_sweep_members_on_slurm_arrive_exactly_through_the_array_body(tmp_path_factory, members):
    """A Slurm array member's command, with here-documents and multi-line
    values, runs byte for byte (the sbatch body run by bash, without sbatch)."""
    assume(not any(ends_quoted_heredoc(m) for m in members))
    assume(len({m.encode() for m in members}) == len(members))
    tmp = tmp_path_factory.mktemp("s")
    run = "\n".join(site for site, _ in CONTEXTS.values()).replace("${p}", "${v}")
    source = (
        'experiment hostile { description = "x" }\n'
        'site hpc : slurm { partition cpu { nodes = 1; cpus = 4; memory = 8GiB } }\n'
        f"stage a for v in [{', '.join(mlx_string(m) for m in members)}] {{\n"
        '  estimate = 1s\n'
        f"  run = {mlx_string_keep(run)}\n}}\n"
    )
    assert compile_source(tmp, source) == 0
    script = tmp / "out/hostile/slurm/hpc/a.sbatch"
    root = tmp / "root"
    (root / ".mlc").mkdir(parents=True)
    # The result cache, where ship/hpc/_step_cache.sh puts it before any job runs.
    (root / ".mlc/step_cache.py").write_bytes((tmp / "out/hostile/slurm/step_cache.py").read_bytes())
    for index, value in enumerate(members):
        done = run_script(script, root, SLURM_SUBMIT_DIR=str(root), SLURM_ARRAY_JOB_ID="7",
                          SLURM_ARRAY_TASK_ID=str(index), SLURM_JOB_ID="8")
        assert done.returncode == 0, done.stderr
        check_outputs(root, value)
    assert_no_marker(tmp)


def test_a_nul_in_a_value_is_a_diagnostic(tmp_path, capsys):
    status = compile_source(tmp_path, local_source("echo ${p}", "a\x00b"))
    assert status == 1 and "error[E0511]" in capsys.readouterr().err


def test_a_value_that_would_end_a_quoted_heredoc_is_a_diagnostic(tmp_path, capsys):
    run = "cat <<'END'\n${p}\nEND"
    status = compile_source(tmp_path, local_source(run, "x\nEND\ntouch pwned"))
    assert status == 1 and "error[E0511]: the value would end the here-document `END` early" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("run", ["echo 'open", 'echo "open', "echo $(open", "cat <<END\nno end"])
def test_a_command_mlc_cannot_read_is_a_diagnostic(tmp_path, capsys, run):
    status = compile_source(tmp_path, local_source(run + " ${p}", "v"))
    assert status == 1 and "error[E0510]" in capsys.readouterr().err


def test_a_port_path_starting_with_a_dash_is_not_an_option(tmp_path):
    source = (
        'experiment hostile { description = "x" }\n'
        "site laptop : local { cpus = 2; memory = 4GiB }\n"
        'stage a {\n  out o = file("-n")\n  estimate = 1s\n  run = "echo hi > ${out.o}; cat ${out.o} > copy.txt"\n}\n'
    )
    assert compile_source(tmp_path, source) == 0
    out = tmp_path / "out/hostile"
    done = run_script(out / "local/laptop/a.sh", out, MLC_WORKDIR="w")
    assert done.returncode == 0, done.stderr
    assert (out / "w/copy.txt").read_text() == "hi\n"


def test_scripts_with_hostile_values_in_every_context_pass_bash_n_and_shellcheck(tmp_path):
    value = "it's \"$(touch pwned)\" `touch pwned` ${HOME} \\ \nx\t -rf 🚀 #SBATCH --array=0-9"
    run = "\n".join(site for site, _ in CONTEXTS.values())
    source = local_source(run, value).replace(
        "site laptop : local { cpus = 2; memory = 4GiB }\n",
        "site laptop : local { cpus = 2; memory = 4GiB }\n"
        "site hpc : slurm { partition cpu { nodes = 1; cpus = 4; memory = 8GiB } }\n",
    ).replace("stage a {\n", "stage a for n in [1, 2] {\n  on = hpc.cpu\n").replace(
        "stage a for", 'stage b {\n  estimate = 1s\n  on = laptop\n  run = "cat <<\'E\'\\n${p}\\nE"\n}\nstage a for')
    assert compile_source(tmp_path, source) == 0
    out = tmp_path / "out/hostile"
    scripts = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.suffix in (".sh", ".sbatch"))
    assert "slurm/hpc/a.sbatch" in scripts and "local/laptop/b.sh" in scripts
    for script in scripts:
        syntax = subprocess.run(["bash", "-n", script], cwd=out, capture_output=True, text=True)
        assert syntax.returncode == 0, syntax.stderr
    lint = subprocess.run(["shellcheck", "--norc", *scripts], cwd=out, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=hostile)
@example(path="-rf")
@example(path="$(touch pwned)")
@example(path="it's \"x\"\nEND")
def test_a_hostile_output_path_in_every_context_arrives_exactly(tmp_path_factory, path):
    tmp = tmp_path_factory.mktemp("path")
    run = "\n".join(site for name, (site, _) in CONTEXTS.items() if name != "quoted_heredoc")
    run = run.replace("${p}", "${out.o}") + "\nprintf written > ${out.o}"
    source = (
        'experiment hostile { description = "x" }\n'
        "site laptop : local { cpus = 2; memory = 4GiB }\n"
        f"stage a {{\n  out o = file({mlx_string(path)})\n  estimate = 1s\n  run = {mlx_string_keep(run)}\n}}\n"
    )
    status = compile_source(tmp, source)
    assume(status == 0)  # a path the front end refuses (absolute, `..`, empty) is not this test's
    out = tmp / "out/hostile"
    done = run_script(out / "local/laptop/a.sh", out, MLC_WORKDIR="w")
    assert done.returncode == 0, done.stderr
    normal = posixpath.normpath(path)  # the front end keeps one spelling of a path (`0/` is `0`)
    seen = "./" + normal if normal.startswith("-") else normal
    for name, (_, expected) in CONTEXTS.items():
        if expected is not None and name != "quoted_heredoc":
            assert (out / "w" / f"{name}.txt").read_bytes().decode("utf-8") == expected(seen), name
    assert (out / "w" / seen).read_text() == "written"
    assert_no_marker(tmp)


def test_a_nul_in_an_environment_value_is_a_diagnostic(tmp_path, capsys):
    # The shell cannot pass NUL: the string holding it is refused where it is written.
    source = local_source("echo $X", "v").replace("  estimate = 1s\n", '  estimate = 1s\n  env = {X: "a\x00b"}\n')
    status = compile_source(tmp_path, source)
    assert status == 1 and "error[E0110]" in capsys.readouterr().err
    assert not any(path.is_file() and b"\x00" in path.read_bytes() for path in tmp_path.rglob("*.sh"))
