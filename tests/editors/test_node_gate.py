"""The gate in front of the Node.js tests: skip where Node is not set up,
fail where CI says it must be (MLC_REQUIRE_NODE=1)."""

import pytest
from editor_tooling import REPO, require_node_packages


def test_missing_node_packages_skip_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv("MLC_REQUIRE_NODE", raising=False)
    with pytest.raises(pytest.skip.Exception, match="node_modules is missing"):
        require_node_packages(REPO / "editors" / "no-such-folder")


def test_missing_node_packages_fail_when_required(monkeypatch):
    monkeypatch.setenv("MLC_REQUIRE_NODE", "1")
    with pytest.raises(pytest.fail.Exception, match="MLC_REQUIRE_NODE=1 but .*node_modules is missing"):
        require_node_packages(REPO / "editors" / "no-such-folder")


def test_missing_node_binary_fails_when_required(monkeypatch):
    monkeypatch.setenv("MLC_REQUIRE_NODE", "1")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(pytest.fail.Exception, match="node is not on PATH"):
        require_node_packages(REPO / "editors" / "textmate")
