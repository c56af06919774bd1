"""The VS Code extension under editors/vscode: its manifest, what it starts,
and the .vsix that `npm run package` (vsce) builds from it."""

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from editor_tooling import GRAMMAR, VSCODE_EXTENSION, require_node_packages, run_node

ACTIVATE = Path(__file__).parent / "activate_extension.cjs"


def manifest() -> dict:
    return json.loads((VSCODE_EXTENSION / "package.json").read_text())


def test_manifest_declares_the_language_and_its_grammar():
    contributes = manifest()["contributes"]
    [language] = contributes["languages"]
    assert (language["id"], language["extensions"]) == ("mlx", [".mlx"])
    [grammar] = contributes["grammars"]
    assert grammar["language"] == "mlx"
    assert grammar["scopeName"] == json.loads(GRAMMAR.read_text())["scopeName"]
    assert (VSCODE_EXTENSION / language["configuration"]).is_file()


def test_server_path_setting_defaults_to_mlc():
    properties = manifest()["contributes"]["configuration"]["properties"]
    assert properties["mlx.server.path"]["default"] == "mlc"


def test_language_configuration():
    configuration = json.loads((VSCODE_EXTENSION / "language-configuration.json").read_text())
    assert configuration["comments"] == {"lineComment": "//"}
    assert ["{", "}"] in configuration["brackets"]
    pairs = {(pair["open"], pair["close"]) for pair in configuration["autoClosingPairs"]}
    assert {("{", "}"), ("[", "]"), ("(", ")"), ('"', '"'), ('"""', '"""')} <= pairs
    assert {"increaseIndentPattern", "decreaseIndentPattern"} <= set(configuration["indentationRules"])


def activate(**scenario) -> dict:
    require_node_packages(VSCODE_EXTENSION)
    request = {"settings": {}, "startFails": False, "changedSettings": None} | scenario
    return run_node(ACTIVATE, cwd=VSCODE_EXTENSION, request=request)


@pytest.mark.node
def test_extension_starts_mlc_lsp_over_stdio():
    [client] = activate()["clients"]
    assert client["serverOptions"] == {"command": "mlc", "args": ["lsp"]}
    assert client["documentSelector"] == [{"scheme": "file", "language": "mlx"}]


@pytest.mark.node
def test_extension_honours_the_server_path_setting():
    [client] = activate(settings={"server.path": "/opt/mlc/bin/mlc"})["clients"]
    assert client["serverOptions"]["command"] == "/opt/mlc/bin/mlc"


@pytest.mark.node
def test_extension_restarts_the_server_when_the_path_changes():
    first, second = activate(changedSettings={"server.path": "/opt/mlc/bin/mlc"})["clients"]
    assert first["stopped"] and not second["stopped"]
    assert (first["serverOptions"]["command"], second["serverOptions"]["command"]) == ("mlc", "/opt/mlc/bin/mlc")


@pytest.mark.node
def test_extension_explains_a_server_that_does_not_start():
    [error] = activate(startFails=True)["errors"]
    assert "`mlc lsp`" in error and "mlx.server.path" in error


@pytest.mark.node
def test_vsix_packs_the_grammar_byte_for_byte(tmp_path):
    require_node_packages(VSCODE_EXTENSION)
    vsix = tmp_path / "mlx.vsix"
    completed = subprocess.run(
        ["npm", "run", "--silent", "package", "--", "--out", str(vsix)],
        cwd=VSCODE_EXTENSION,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        assert archive.read("extension/syntaxes/mlx.tmLanguage.json") == GRAMMAR.read_bytes()
        packed_manifest = json.loads(archive.read("extension/package.json"))
    assert packed_manifest["contributes"]["grammars"][0]["path"] == "./syntaxes/mlx.tmLanguage.json"
    assert {
        "extension/extension.js",
        "extension/language-configuration.json",
        "extension/node_modules/vscode-languageclient/package.json",
    } <= names
