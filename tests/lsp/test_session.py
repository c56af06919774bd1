"""The language server end to end: one real session over a pipe with
`mlc lsp`, on a copy of the RTMDet example and its site catalog as they were
hand-aligned (tests/lsp/data/), so the needles below stay put when the
examples change and formatting has real work to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compiler.editors.printer import format_text

from .client import LspClient



def position(text: str, needle: str, nth: int = 0, offset: int = 0) -> dict:
    """The LSP position of the `nth` occurrence of `needle`, plus `offset` characters."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    at += offset
    line = text.count("\n", 0, at)
    return {"line": line, "character": at - (text.rfind("\n", 0, at) + 1)}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("project")
    data = Path(__file__).resolve().parent / "data"
    shutil.copy(data / "rtmdet.mlx", folder / "rtmdet.mlx")
    (folder / "sites").mkdir()
    shutil.copy(data / "sites" / "hse.mlx", folder / "sites" / "hse.mlx")
    return folder


@pytest.fixture(scope="module")
def session(project):
    client = LspClient(str(project))
    result = client.request("initialize", {"processId": None, "rootUri": project.as_uri(),
                                           "capabilities": {}})
    client.notify("initialized", {})
    client.capabilities = result["capabilities"]
    main = project / "rtmdet.mlx"
    client.uri = main.as_uri()
    client.text = main.read_text()
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": client.uri, "languageId": "mlx", "version": 1, "text": client.text}})
    client.opened = client.diagnostics(client.uri)
    yield client
    assert client.close() == 0


def doc(session) -> dict:
    return {"textDocument": {"uri": session.uri}}


def test_advertises_its_features(session):
    caps = session.capabilities
    for name in ("hoverProvider", "definitionProvider", "referencesProvider",
                 "documentSymbolProvider", "documentFormattingProvider"):
        assert caps.get(name), name
    assert "." in caps["completionProvider"]["triggerCharacters"]


def test_a_clean_file_has_no_diagnostics(session):
    assert session.opened == []


def test_diagnostics_follow_the_unsaved_text(session):
    broken = session.text.replace("memory   = 8GiB", "memroy   = 8GiB").replace(
        "param epochs: int = 12", "param epochs: int = 12\nparam coco: int = 1")
    session.notify("textDocument/didChange", {
        "textDocument": {"uri": session.uri, "version": 2}, "contentChanges": [{"text": broken}]})
    found = {d["code"]: d for d in session.diagnostics(session.uri)}
    unknown = found["E0301"]
    assert unknown["severity"] == 1 and unknown["source"] == "mlc"
    assert unknown["range"]["start"] == position(broken, "memroy")
    assert unknown["range"]["end"] == position(broken, "memroy", offset=len("memroy"))
    hint = next(r for r in unknown["relatedInformation"] if "did you mean `memory`" in r["message"])
    assert hint["location"] == {"uri": session.uri, "range": unknown["range"]}
    twice = found["E0201"]
    first = next(r for r in twice["relatedInformation"] if "first declaration" in r["message"])
    assert twice["range"]["start"] == position(broken, "coco {")
    assert first["location"]["uri"] == session.uri
    assert first["location"]["range"]["start"] == position(broken, "coco: int")

    session.notify("textDocument/didChange", {
        "textDocument": {"uri": session.uri, "version": 3}, "contentChanges": [{"text": session.text}]})
    assert session.diagnostics(session.uri) == []


def hover(session, needle, nth=0, offset=1) -> str:
    at = position(session.text, needle, nth, offset)
    result = session.request("textDocument/hover", {**doc(session), "position": at})
    return result["contents"]["value"] if result else ""


def test_hover_shows_a_stages_resources_and_where_it_runs(session):
    text = hover(session, "stage train", offset=len("stage t"))
    assert "32 CPUs, 128 GiB, 4 x a100, 12h" in text
    assert "`train[lr=0.01]` charisma.gpu: only charisma.gpu offers a100" in text


def test_hover_shows_a_params_type_and_value(session):
    text = hover(session, "epochs: int", offset=1)
    assert "param epochs: int = 12" in text and "value: `12`" in text


def test_hover_on_a_field_gives_its_type(session):
    assert "field `memory`: a size" in hover(session, "memory = 128GiB")


def definition(session, needle, nth=0, offset=1):
    at = position(session.text, needle, nth, offset)
    return session.request("textDocument/definition", {**doc(session), "position": at})


def test_definition_of_an_output_reference(session):
    found = definition(session, "prepare.data", offset=len("prepare.d"))
    assert found["uri"] == session.uri
    assert found["range"]["start"] == position(session.text, "out data", offset=4)


def test_definition_across_an_import(session, project):
    catalog = project / "sites" / "hse.mlx"
    found = definition(session, "at   = cloud", offset=len("at   = c"))
    assert found["uri"] == catalog.as_uri()
    assert found["range"]["start"] == position(catalog.read_text(), "site cloud", offset=5)
    found = definition(session, '"sites/hse.mlx"')
    assert found["uri"] == catalog.as_uri() and found["range"]["start"] == {"line": 0, "character": 0}


def test_definition_of_a_sweep_variable_and_an_interpolation(session):
    found = definition(session, "work/${lr}", offset=len("work/${"))
    assert found["range"]["start"] == position(session.text, "for lr", offset=4)
    found = definition(session, "--lr ${lr}", offset=len("--lr ${"))  # in the template
    assert found["range"]["start"] == position(session.text, "lr: float")
    found = definition(session, "${in.raw}", offset=6)
    assert found["range"]["start"] == position(session.text, "in  raw", offset=4)


def test_references_across_files(session, project):
    result = session.request("textDocument/references", {
        **doc(session), "position": position(session.text, "on       = cloud", offset=12),
        "context": {"includeDeclaration": True}})
    where = sorted((Path(r["uri"]).name, r["range"]["start"]["line"]) for r in result)
    catalog = (project / "sites" / "hse.mlx").read_text()
    assert ("hse.mlx", position(catalog, "site cloud")["line"]) in where
    assert ("rtmdet.mlx", position(session.text, "at   = cloud")["line"]) in where
    assert ("rtmdet.mlx", position(session.text, "on       = cloud")["line"]) in where
    assert sum(1 for name, _ in where if name == "hse.mlx") >= 3  # the site and two links


def complete(session, text_before_cursor_needle, offset):
    result = session.request("textDocument/completion", {
        **doc(session), "position": position(session.text, text_before_cursor_needle, offset=offset)})
    return {item["label"] for item in result["items"]}


def test_completion_offers_sites_and_pools_after_on(session):
    labels = complete(session, "on       = cloud", len("on       = "))
    assert {"charisma", "cloud", "charisma.gpu", "cloud.cpu"} <= labels
    assert "prepare" not in labels


def test_completion_offers_the_fields_of_the_block(session):
    labels = complete(session, "  retries  = 1", 2)
    assert {"memory", "estimate", "retries", "in", "out"} <= labels
    assert "replicas" not in labels  # a service field
    labels = complete(session, "  replicas = 2", 2)
    assert {"replicas", "port", "health"} <= labels


def test_completion_offers_units_after_a_number(session):
    labels = complete(session, "deadline    = 48h", len("deadline    = 48"))
    assert {"h", "m", "GiB", "Gbps"} <= labels


def test_completion_at_the_top_level_offers_declarations(session):
    labels = complete(session, "param epochs", 0)
    assert {"stage", "site", "template", "import"} <= labels


def test_document_symbols_nest_ports(session):
    result = session.request("textDocument/documentSymbol", doc(session))
    names = [s["name"] for s in result]
    assert names == ["rtmdet", "epochs", "wandb", "coco", "Train", "prepare", "train", "evaluate",
                     "detector"]
    prepare = result[names.index("prepare")]
    assert [c["name"] for c in prepare["children"]] == ["raw", "data"]


def test_formatting_goes_through_mlc_fmt(session):
    edits = session.request("textDocument/formatting", {
        **doc(session), "options": {"tabSize": 2, "insertSpaces": True}})
    assert len(edits) == 1 and edits[0]["newText"] == format_text(session.text)


def test_completion_offers_templates_and_members(session):
    assert complete(session, "stage train : Train", len("stage train : ")) == {"Train"}
    assert complete(session, "data = prepare.data", len("data = prepare.")) == {"data"}
    assert complete(session, "lr = lr", len("lr = ")) >= {"epochs", "coco", "wandb", "lr", "true"}


def test_navigation_survives_a_syntax_error(session):
    broken = session.text + "\nstage unfinished {\n"
    session.notify("textDocument/didChange", {
        "textDocument": {"uri": session.uri, "version": 4}, "contentChanges": [{"text": broken}]})
    assert [d["code"] for d in session.diagnostics(session.uri)] == ["E0106"]
    assert "32 CPUs" in hover(session, "stage train", offset=len("stage t"))
    session.notify("textDocument/didChange", {
        "textDocument": {"uri": session.uri, "version": 5}, "contentChanges": [{"text": session.text}]})
    assert session.diagnostics(session.uri) == []


def test_a_problem_in_an_open_import_shows_on_the_import_line(session, project):
    catalog = project / "sites" / "hse.mlx"
    catalog_uri = catalog.as_uri()
    edited = catalog.read_text().replace("nodes = 26", "nodez = 26")
    session.notify("textDocument/didOpen", {"textDocument": {
        "uri": catalog_uri, "languageId": "mlx", "version": 1, "text": edited}})
    own = session.diagnostics(catalog_uri)
    assert [d["code"] for d in own] == ["E0301"]
    assert own[0]["range"]["start"] == position(edited, "nodez")
    seen_from_main = session.diagnostics(session.uri)
    assert [d["code"] for d in seen_from_main] == ["E0301"]
    assert seen_from_main[0]["range"]["start"] == position(session.text, 'import "sites')
    assert "hse.mlx:" in seen_from_main[0]["message"]

    session.notify("textDocument/didClose", {"textDocument": {"uri": catalog_uri}})
    assert session.diagnostics(catalog_uri) == []
    assert session.diagnostics(session.uri) == []  # the file on disk is fine
