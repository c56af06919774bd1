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
    assert "ok (4 stages, 6 instances, 1 services, 3 sites)" in result.stdout


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
        assert committed == model.model_json_schema(mode="serialization"), f"docs/{which}.schema.json is stale"


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
    for command in ("check", "plan", "compile", "run", "status", "down", "clean", "fmt", "lsp", "import", "schema"):
        assert f"    {command} " in out


def test_lsp_without_its_extra_says_what_to_install(monkeypatch, capsys):
    import sys as _sys

    for name in [m for m in _sys.modules if m.startswith(("pygls", "lsprotocol", "compiler.editors.lsp"))]:
        monkeypatch.delitem(_sys.modules, name)
    monkeypatch.setitem(_sys.modules, "lsprotocol", None)  # an import of it now fails
    monkeypatch.setitem(_sys.modules, "pygls", None)
    assert cli.main(["lsp"]) == 2
    assert "pip install 'mlc[lsp]'" in capsys.readouterr().err


def test_objective_option_takes_the_languages_weighted_form():
    result = run("plan", "examples/quickstart.mlx", "--objective", "weighted(time = 1, cost = 0.5)",
                 "--format", "json")
    assert result.returncode == 0, result.stderr
    objective = json.loads(result.stdout)["objective"]
    assert (objective["kind"], objective["time_weight"], objective["cost_weight"]) == ("weighted", 1.0, 0.5)
    assert json.loads(run("plan", "examples/quickstart.mlx", "--objective", "cost", "--format", "json")
                      .stdout)["objective"]["kind"] == "cost"


def test_a_bad_objective_option_is_a_usage_error_with_the_languages_diagnostic():
    result = run("plan", "examples/quickstart.mlx", "--objective", "weighted(tme = 1)")
    assert result.returncode == 2
    assert "--objective:2:24: error[E0306]: unknown weight `tme`" in result.stderr
    assert "help: weights: `cost`, `time`" in result.stderr and "Traceback" not in result.stderr
    # Only an objective: the text cannot open or close a declaration.
    smuggled = run("plan", "examples/quickstart.mlx", "--objective", "makespan } stage x { run = \"true\"")
    assert smuggled.returncode == 2 and smuggled.stderr.startswith("mlc: --objective takes makespan, cost")


def test_status_of_a_folder_never_compiled_is_an_error(tmp_path):
    result = run("status", "examples/quickstart.mlx", "-o", str(tmp_path))
    assert result.returncode == 2
    assert "not compiled yet" in result.stderr and result.stdout == ""


def test_json_output_of_compile_status_and_dry_run(tmp_path):
    compiled = run("compile", "examples/quickstart.mlx", "-o", str(tmp_path), "--format", "json")
    assert compiled.returncode == 0, compiled.stderr
    data = json.loads(compiled.stdout)
    assert data["folder"] == str(tmp_path / "quickstart") and data["up_to_date"] is False
    assert "Snakefile" in data["changed"] and data["diagnostics"] == [] and data["check"] is False
    checked = json.loads(run("compile", "examples/quickstart.mlx", "-o", str(tmp_path), "--check",
                             "--format", "json").stdout)
    assert (checked["check"], checked["up_to_date"], checked["changed"]) == (True, True, [])

    status = json.loads(run("status", "examples/quickstart.mlx", "-o", str(tmp_path), "--format", "json").stdout)
    assert (status["done"], status["total"], status["services"]) == (0, 5, [])
    assert status["steps"][0] == {"rule": "make_data", "step": "make_data on the local site laptop",
                                  "state": "pending", "job": None, "gone": []}

    dry = run("run", "examples/quickstart.mlx", "-o", str(tmp_path), "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert (planned["done"], planned["total"]) == (0, 5)
    assert [step["rule"] for step in planned["would_run"]][0] == "make_data" and len(planned["would_run"]) == 5


def test_json_is_refused_where_the_output_is_a_stream_of_text(tmp_path):
    # `mlc run --format json` streams events instead (tests/runner/test_display.py).
    for command in (["down"], ["clean"]):
        result = run(*command, "examples/quickstart.mlx", "-o", str(tmp_path), "--format", "json")
        assert result.returncode == 2 and "--format json" in result.stderr
        assert not (tmp_path / "quickstart").exists()


def test_clean_on_a_folder_never_compiled_says_so(tmp_path):
    result = run("clean", "examples/quickstart.mlx", "-o", str(tmp_path))
    assert result.returncode == 2 and "not compiled yet" in result.stderr and "Traceback" not in result.stderr


def test_import_says_what_is_wrong_with_a_file_that_is_not_one(tmp_path):
    device = run("import", "wfformat", "/dev/null")
    assert (device.returncode, device.stderr) == (
        2, "mlc: /dev/null: is a character device, not a regular file; give the file to import\n")
    folder = run("import", "wfformat", str(tmp_path))
    assert folder.returncode == 2 and "is a directory" in folder.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("")
    result = run("import", "wfformat", str(empty))
    assert result.returncode == 1 and "the file is empty" in result.stderr
    assert run("import", "mldev", str(tmp_path / "missing.yaml")).stderr.endswith("missing.yaml: no such file\n")


# --- start-up: what a command imports (docs/benchmarks.md, "Start-up") -------

HEAVY = ("kubernetes", "scipy", "snakemake", "pygls", "lsprotocol", "rocrate")


def _imported_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after `code`, in a fresh process."""
    probe = code + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split("\n")[-2].split())


def test_importing_the_command_line_imports_no_heavy_package():
    # Every call of `mlc` (editors, pre-commit hooks) pays for these imports.
    loaded = _imported_after("import compiler.cli")
    assert loaded.isdisjoint(HEAVY + ("numpy", "pydantic", "jinja2", "lark", "networkx")), \
        sorted(loaded & set(HEAVY + ("numpy", "pydantic", "jinja2", "lark", "networkx")))


def test_version_imports_neither_the_ir_nor_the_front_end():
    loaded = _imported_after("from compiler import cli\ntry:\n    cli.main(['--version'])\nexcept SystemExit:\n"
                             "    pass")
    assert "pydantic" not in loaded and "lark" not in loaded


def test_check_and_compile_without_a_kubernetes_site_import_no_heavy_package(tmp_path):
    # quickstart has one local site: no Kubernetes objects are built, so the
    # client is never imported (it is imported on first use, compiler/lazy.py).
    loaded = _imported_after(f"from compiler import cli\nassert cli.main(['check', 'examples/quickstart.mlx']) == 0\n"
                             f"assert cli.main(['compile', 'examples/quickstart.mlx', '-o', {str(tmp_path)!r}]) == 0")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_checking_a_clean_file_does_not_import_lark():
    # The fast parser (frontend/descent.py) reads a file without a syntax
    # error, and a `-p` value; lark's parser is loaded only to report one.
    loaded = _imported_after("from compiler import cli\n"
                             "assert cli.main(['check', 'examples/ablation.mlx', '-p', 'batch=128']) == 0")
    assert "lark" not in loaded
    broken = _imported_after("from compiler import cli\n"
                             "assert cli.main(['check', 'tests/frontend/bad/E0101_unexpected_token.mlx']) == 1")
    assert "lark" in broken


def test_compiling_a_kubernetes_site_imports_the_client(tmp_path):
    # The other side of the lazy import: the objects are still built with it.
    loaded = _imported_after(f"from compiler import cli\n"
                             f"assert cli.main(['compile', 'examples/rtmdet.mlx', '-o', {str(tmp_path)!r}]) == 0")
    assert "kubernetes" in loaded


def test_a_batch_command_ends_at_once_with_its_output_and_status(tmp_path):
    """From the command line, check/plan/compile end with os._exit (no
    teardown of a large experiment): nothing they print may be lost, and
    the status is theirs. A profiler still gets to write its results."""
    ok = run("check", "examples/quickstart.mlx")
    assert ok.returncode == 0 and ok.stdout.startswith("examples/quickstart.mlx: ok")
    bad = tmp_path / "bad.mlx"
    bad.write_text("stage s { run = 1 }\n", encoding="utf-8")
    failed = run("check", str(bad))
    assert failed.returncode == 1 and "error[" in failed.stdout + failed.stderr
    ir = run("check", "--emit-ir", "examples/quickstart.mlx")
    assert Experiment.model_validate_json(ir.stdout).name  # the whole JSON, flushed
    profile = tmp_path / "check.prof"
    profiled = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "compiler.cli", "check",
                               "examples/quickstart.mlx"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                              check=False)
    assert profiled.returncode == 0 and profile.stat().st_size > 0
