"""What the editor-support tests share: the paths of the tooling, the
keywords of grammar/mlx.lark, and the gate in front of the tests that need
Node.js. A plain module rather than a conftest.py, so that importing it cannot
pick up another test area's conftest."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lark import Lark
from lark.lexer import PatternStr

REPO = Path(__file__).resolve().parents[2]
GRAMMAR = REPO / "grammar" / "mlx.tmLanguage.json"
TEXTMATE_HARNESS = REPO / "editors" / "textmate"
VSCODE_EXTENSION = REPO / "editors" / "vscode"


def lark_keywords() -> list[str]:
    """The keywords of grammar/mlx.lark, the language's authority: its quoted
    literals that are words."""
    parser = Lark((REPO / "grammar" / "mlx.lark").read_text(), parser="lalr")
    literals = (terminal.pattern.value for terminal in parser.terminals if isinstance(terminal.pattern, PatternStr))
    return sorted(literal for literal in literals if literal.isidentifier())


def require_node_packages(folder: Path) -> None:
    """Skip the calling test when Node.js or the npm packages of `folder` are
    missing; fail it instead under MLC_REQUIRE_NODE=1, so that CI cannot turn
    green by silently skipping the editor tests."""
    problems = []
    if shutil.which("node") is None:
        problems.append("node is not on PATH")
    if not (folder / "node_modules").is_dir():
        problems.append(f"{folder.relative_to(REPO)}/node_modules is missing: run .ci/install-node-deps")
    if not problems:
        return
    message = "; ".join(problems)
    if os.environ.get("MLC_REQUIRE_NODE") == "1":
        pytest.fail(f"MLC_REQUIRE_NODE=1 but {message}")
    pytest.skip(message)


def run_node(script: Path, *, cwd: Path, request: object) -> object:
    """Runs a Node script, feeding `request` as JSON on stdin; returns the JSON it prints."""
    completed = subprocess.run(
        ["node", str(script)],
        cwd=cwd,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)
