"""The server writes publishDiagnostics' JSON itself (lsp.diagnostic_json),
not through lsprotocol's converter (40 us a diagnostic). For the
diagnostics of every file of the error catalogue, in the UTF-16 and UTF-8
position encodings, it writes what the converter would."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lsprotocol import types as T
from pygls.protocol import default_converter

from compiler.editors.lsp import build_server, diagnostic_json
from compiler.editors.lsp_analysis import analyse

BAD = sorted((Path(__file__).resolve().parents[1] / "frontend" / "bad").glob("*.mlx"))


def server(encoding: T.PositionEncodingKind):
    ls = build_server()
    capabilities = T.ClientCapabilities(general=T.GeneralClientCapabilities(position_encodings=[encoding]))
    initialise = ls.protocol.lsp_initialize(T.InitializeParams(capabilities=capabilities))
    with pytest.raises(StopIteration):
        next(initialise)
    return ls


@pytest.mark.parametrize("encoding", [T.PositionEncodingKind.Utf16, T.PositionEncodingKind.Utf8])
def test_the_json_of_every_catalogued_diagnostic_is_the_converters(encoding):
    ls, converter = server(encoding), default_converter()
    seen = 0
    for path in BAD:
        analysis = analyse(str(path), {os.path.realpath(path): path.read_text(encoding="utf-8", errors="replace")})
        for d in analysis.diagnostics:
            typed = ls.diagnostic(analysis, d, {})
            assert diagnostic_json(typed) == converter.unstructure(typed), (path.name, d.code)
            seen += 1
    assert seen > len(BAD)


def test_related_information_and_warnings():
    converter = default_converter()
    here = T.Range(start=T.Position(line=1, character=2), end=T.Position(line=1, character=9))
    for d in (T.Diagnostic(range=here, message="m", code="E0301", source="mlc",
                           severity=T.DiagnosticSeverity.Warning),
              T.Diagnostic(range=here, message="m", code="E0301", source="mlc",
                           severity=T.DiagnosticSeverity.Error, related_information=[
                               T.DiagnosticRelatedInformation(location=T.Location(uri="file:///a.mlx", range=here),
                                                              message="note: n")])):
        assert diagnostic_json(d) == converter.unstructure(d)
