"""The TextMate grammar as a file: what an editor checks before it tokenises
anything (vscode-textmate silently ignores an include that names nothing)."""

import json

from editor_tooling import GRAMMAR


def load_grammar() -> dict:
    return json.loads(GRAMMAR.read_text())


def includes(node) -> list[str]:
    """Every `include` anywhere in the grammar."""
    if isinstance(node, dict):
        found = [node["include"]] if "include" in node else []
        return found + [name for value in node.values() for name in includes(value)]
    if isinstance(node, list):
        return [name for item in node for name in includes(item)]
    return []


def test_grammar_names_the_mlx_scope():
    grammar = load_grammar()
    assert grammar["scopeName"] == "source.mlx"
    assert grammar["fileTypes"] == ["mlx"]


def test_every_include_names_a_repository_rule():
    grammar = load_grammar()
    dangling = sorted({name for name in includes(grammar) if name.removeprefix("#") not in grammar["repository"]})
    assert dangling == []


def test_every_repository_rule_is_used():
    grammar = load_grammar()
    used = {name.removeprefix("#") for name in includes(grammar)}
    assert sorted(set(grammar["repository"]) - used) == []
