"""The command line: exit statuses, output formats, the last line of defence."""

from __future__ import annotations

import json
import subprocess
import sys


from compiler import cli
from compiler.ir import Experiment, Plan
from tests.conftest import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_check_clean_example_exits_0():
    result = run("check", "examples/rtmdet.mlx")
    assert result.returncode == 0, result.stderr
    assert "ok (3 stages, 5 instances, 1 services, 3 sites)" in result.stdout


def test_bad_input_exits_1_with_diagnostics():
    result = run("check", "tests/frontend/bad/E0301_unknown_field.mlx")
    assert result.returncode == 1
    assert "error[E0301]" in result.stderr and "Traceback" not in result.stderr


def test_missing_file_is_a_usage_problem():
    result = run("check", "no/such/file.mlx")
    assert result.returncode == 2
    assert result.stderr.startswith("mlc: no/such/file.mlx")


def test_bad_arguments_exit_2():
    assert run("check").returncode == 2
    assert run("check", "examples/quickstart.mlx", "-p", "novalue").returncode == 2


def test_json_diagnostics():
    result = run("check", "tests/frontend/bad/E0305_wrong_dimension.mlx", "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["errors"] == 2
    first = data["diagnostics"][0]
    assert first["code"] == "E0305" and first["span"]["line"] == 3 and first["span"]["column"] == 12
    assert first["notes"][0]["kind"] == "help"


def test_emit_ir_is_valid_ir():
    result = run("check", "examples/rtmdet.mlx", "--emit-ir")
    experiment = Experiment.model_validate_json(result.stdout)
    assert [i.id for i in experiment.instances][:2] == ["prepare", "train[lr=0.01]"]


def test_exported_schemas_are_current():
    """docs/*.schema.json are what `mlc schema` prints; regenerate them with
    `mlc schema ir > docs/ir.schema.json` (and `plan`) after an IR change."""
    for which, model in (("ir", Experiment), ("plan", Plan)):
        committed = json.loads((ROOT / "docs" / f"{which}.schema.json").read_text())
        assert committed == model.model_json_schema(), f"docs/{which}.schema.json is stale"


def test_param_override_reaches_the_ir():
    result = run("check", "examples/quickstart.mlx", "-p", "points=50", "--emit-ir")
    assert json.loads(result.stdout)["params"]["points"] == 50


def test_internal_error_is_one_short_line(monkeypatch, capsys):
    def explode(args):
        raise RuntimeError("boom")

    parser = cli.build_parser

    def patched():
        p = parser()
        p._subparsers._group_actions[0].choices["check"].set_defaults(func=explode)
        return p

    monkeypatch.setattr(cli, "build_parser", patched)
    assert cli.main(["check", "examples/quickstart.mlx"]) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err
    assert cli.main(["check", "examples/quickstart.mlx", "--debug"]) == 3
    assert "Traceback" in capsys.readouterr().err


def test_help_lists_every_command():
    out = run("--help").stdout
    for command in ("check", "plan", "compile", "run", "status", "down", "fmt", "lsp", "import", "schema"):
        assert f"    {command} " in out


def test_lsp_without_its_extra_says_what_to_install(monkeypatch, capsys):
    import sys as _sys

    for name in [m for m in _sys.modules if m.startswith(("pygls", "lsprotocol", "compiler.editors.lsp"))]:
        monkeypatch.delitem(_sys.modules, name)
    monkeypatch.setitem(_sys.modules, "lsprotocol", None)  # an import of it now fails
    monkeypatch.setitem(_sys.modules, "pygls", None)
    assert cli.main(["lsp"]) == 2
    assert "pip install 'mlc[lsp]'" in capsys.readouterr().err
