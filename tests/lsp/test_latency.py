"""How the language server keeps up with typing on large files (issue 19):
a burst of changes is checked once, with its last text; the checker's
diagnostics are published before placement runs, and placement's own
diagnostics still follow. Timings are measured in bench/lsp_latency.py,
not here."""

from __future__ import annotations

from pathlib import Path

from .client import LspClient

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = (ROOT / "tests/placement/bad/E0803_deadline.mlx").read_text()


def _open(folder: Path, text: str) -> tuple[LspClient, str]:
    path = folder / "exp.mlx"
    path.write_text(text)
    client = LspClient(str(folder))
    client.request("initialize", {"processId": None, "rootUri": folder.as_uri(), "capabilities": {}})
    client.notify("initialized", {})
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": path.as_uri(), "languageId": "mlx", "version": 1, "text": text}})
    return client, path.as_uri()


def _publish(client: LspClient, uri: str) -> dict:
    """The next publishDiagnostics of `uri`, whole (with its version)."""
    while True:
        for i, message in enumerate(client.notifications):
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                del client.notifications[i]
                return message["params"]
        client._keep(client.inbox.get(timeout=client.timeout))


def test_a_burst_of_changes_ends_with_the_diagnostics_of_the_last_text(tmp_path):
    clean = DEADLINE.replace("deadline = 2h", "deadline = 12h")
    client, uri = _open(tmp_path, clean)
    try:
        assert _publish(client, uri) == {"uri": uri, "version": 1, "diagnostics": []}
        for version, text in ((2, clean.replace("memory", "memroy")), (3, clean.replace("cpus", "cpsu")),
                              (4, clean)):
            client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                     "contentChanges": [{"text": text}]})
        published = _publish(client, uri)
        while published["version"] < 4:  # a slow reader may have seen the burst in two parts
            published = _publish(client, uri)
        assert published == {"uri": uri, "version": 4, "diagnostics": []}
    finally:
        assert client.close() == 0


def test_placement_diagnostics_follow_the_checkers(tmp_path):
    client, uri = _open(tmp_path, DEADLINE)
    try:
        first = _publish(client, uri)
        assert first["diagnostics"] == []  # the checker finds nothing: published before placing
        placed = _publish(client, uri)  # once the editor is idle
        assert [d["code"] for d in placed["diagnostics"]] == ["E0803"]
    finally:
        assert client.close() == 0
