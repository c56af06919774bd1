"""`mlc lsp`: a language server over stdio (pygls).

Diagnostics as you type (the checker's and placement's, same codes), hover,
go-to-definition and references across imports, completion, the outline,
and formatting through `mlc fmt`. This module wires the protocol to the
analysis (lsp_analysis), the name index (lsp_index), hover text, completion
and symbols, and converts positions: the front end counts 1-based code
points, the client 0-based units of its position encoding."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading

from lsprotocol import types as T
from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .. import __version__
from ..diagnostics import Diagnostic, SourceCache
from ..frontend import ast as A
from ..ir import Span
from .fmt import FormatError, format_source
from .lsp_analysis import Analysis, Parses, analyse, place_analysis
from .lsp_completion import complete
from .lsp_gc import collect_when_idle, frozen_afterwards
from .lsp_hover import hover_text
from .lsp_index import Index, Occurrence
from .lsp_io import ReadAheadStdin
from .lsp_symbols import document_symbols

_COMPLETION_KINDS = {
    "keyword": T.CompletionItemKind.Keyword, "field": T.CompletionItemKind.Field,
    "unit": T.CompletionItemKind.Unit, "site": T.CompletionItemKind.Module,
    "pool": T.CompletionItemKind.Struct, "param": T.CompletionItemKind.Constant,
    "stage": T.CompletionItemKind.Function, "service": T.CompletionItemKind.Interface,
    "template": T.CompletionItemKind.Class, "dataset": T.CompletionItemKind.File,
    "secret": T.CompletionItemKind.Value, "axis": T.CompletionItemKind.Variable,
    "port": T.CompletionItemKind.Field,
}

# Placement waits until the editor has been quiet this long after a check:
# on thousands of stages it takes seconds, which the next keystroke must not
# wait for. A change in between cancels it (the newer text is placed instead).
PLACE_AFTER_IDLE_SECONDS = 1.0
# A changed document is checked when every message received is handled (the
# input is drained, lsp_io); a client that never stops sending gets its
# diagnostics this long after the first change anyway.
MAX_DEFER_SECONDS = 0.25


class MlcLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("mlc", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Full)
        self.latest: dict[str, Analysis] = {}  # uri -> the last analysis
        self.parsed: dict[str, Analysis] = {}  # uri -> the last analysis in which it parsed
        self.parses = Parses()  # syntax trees of the texts last seen, reused while unchanged
        self.reads_ahead = False  # serve(): the input tells when it is drained (input_drained)
        self._changed: list[str] = []  # uris changed since their last check, in order
        self._deadline: asyncio.TimerHandle | None = None  # MAX_DEFER_SECONDS after the first
        self._placing: dict[str, asyncio.TimerHandle] = {}  # uri -> its placement, when idle
        self.stopping = threading.Event()  # set by `shutdown`: serve()'s message loop ends

    # --- analysis ---

    def refresh_soon(self, changed_uri: str) -> None:
        """`refresh` once every message received so far is handled: a burst
        of changes queued behind a check costs one check, of the last text,
        and a lone change is checked at once."""
        timer = self._placing.pop(changed_uri, None)
        if timer is not None:
            timer.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving (a test driving the server directly)
            self.refresh(changed_uri)
            return
        if changed_uri not in self._changed:
            self._changed.append(changed_uri)
        if self._deadline is None:
            self._deadline = loop.call_later(MAX_DEFER_SECONDS, self.input_drained)
        if not self.reads_ahead:  # another transport: after the messages already queued
            loop.call_soon(self.input_drained)

    def input_drained(self) -> None:
        """Check what changed (the input's `on_drained`, or the deadline)."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        changed, self._changed = self._changed, []
        for uri in changed:
            self.refresh(uri)

    def refresh(self, changed_uri: str) -> None:
        """Re-check the changed document, if open, and every open one that
        imports it."""
        changed = _real_path_of(changed_uri)
        for uri in sorted(self.workspace.text_documents):
            previous = self.latest.get(uri)
            imports_it = previous is not None and any(
                os.path.realpath(m.path) == changed for m in previous.modules)
            if uri == changed_uri or imports_it:
                self.check(uri)

    def check(self, uri: str) -> None:
        """Publishes the checker's diagnostics at once; placement (seconds on
        thousands of stages) runs after, and its diagnostics follow if any."""
        buffers = {_real_path_of(u): doc.source for u, doc in self.workspace.text_documents.items()}
        with frozen_afterwards():
            analysis = analyse(_path(uri), buffers, self.parses)
        self.latest[uri] = analysis
        if analysis.parsed:
            self.parsed[uri] = analysis
        self.publish(uri, analysis)
        previous = self._placing.pop(uri, None)
        if previous is not None:
            previous.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving: place now
            self._place(uri, analysis)
            return
        self._placing[uri] = loop.call_later(PLACE_AFTER_IDLE_SECONDS, self._place, uri, analysis)

    def _place(self, uri: str, analysis: Analysis) -> None:
        self._placing.pop(uri, None)
        if analysis.placed or self.latest.get(uri) is not analysis or uri in self._changed:
            return  # a newer text is on its way: placing this one is wasted
        with frozen_afterwards():
            added = place_analysis(analysis)
        if added:
            self.publish(uri, analysis)
        collect_when_idle()

    def placed(self, uri: str, analysis: Analysis) -> None:
        """Places now what is still waiting for the editor to be idle."""
        if analysis.placed:
            return
        timer = self._placing.pop(uri, None)
        if timer is not None:
            timer.cancel()
        with frozen_afterwards():
            added = place_analysis(analysis)
        if added and self.latest.get(uri) is analysis:
            self.publish(uri, analysis)

    def publish(self, uri: str, analysis: Analysis) -> None:
        doc = self.workspace.text_documents.get(uri)
        uris: dict[str, str] = {}  # uri_for, once a path for thousands of diagnostics
        params: dict = {"uri": uri, "diagnostics": [diagnostic_json(self.diagnostic(analysis, d, uris))
                                                    for d in analysis.diagnostics]}
        if doc is not None and doc.version is not None:
            params["version"] = doc.version
        # Serialised here rather than by pygls' cattrs converter, which took
        # 40 us a diagnostic (0.2 s for a file with an error in each of 5,000 stages).
        self.notify_json({"params": params, "method": T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
                          "jsonrpc": "2.0"})  # the converter's order: the same bytes

    def notify_json(self, message: dict) -> None:
        """Writes a notification already in JSON's terms, framed as the base
        protocol says (a Content-Length header in bytes, then the body), to
        the writer pygls was given: pygls' own path would convert it again."""
        writer = self.protocol.writer
        if writer is None:
            return  # not serving: nobody to tell
        body = json.dumps(message).encode("utf-8")
        writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def shutdown(self) -> None:
        """pygls' shutdown, which also ends serve()'s message loop."""
        self.stopping.set()
        super().shutdown()

    def forget(self, uri: str) -> None:
        timer = self._placing.pop(uri, None)
        if timer is not None:
            timer.cancel()
        if uri in self._changed:
            self._changed.remove(uri)
        self.latest.pop(uri, None)
        self.parsed.pop(uri, None)
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # --- positions ---

    def to_range(self, sources: SourceCache, span: Span | A.Pos) -> T.Range:
        return T.Range(start=self.to_position(sources, span.file, span.line, span.column),
                       end=self.to_position(sources, span.file, span.end_line, span.end_column))

    def to_position(self, sources: SourceCache, file: str, line: int, column: int) -> T.Position:
        before = (sources.line(file, line) or "")[: max(column - 1, 0)]
        # ASCII is one unit a character in every encoding: pygls counts in Python, a character at a time.
        units = len(before) if before.isascii() else self.workspace.position_codec.client_num_units(before)
        return T.Position(line=max(line - 1, 0), character=units)

    def cursor(self, uri: str, position: T.Position) -> tuple[str, int, int]:
        """(text before the cursor, 1-based line, 1-based column)."""
        doc = self.workspace.get_text_document(uri)
        at = doc.position_codec.position_from_client_units(doc.lines, position)
        lines = doc.source.split("\n")
        current = lines[at.line][: at.character] if at.line < len(lines) else ""
        return "\n".join(lines[: at.line] + [current]), at.line + 1, at.character + 1

    def occurrence(self, uri: str, position: T.Position) -> tuple[Analysis, Occurrence] | None:
        analysis = self.parsed.get(uri)
        if analysis is None:
            return None
        _, line, column = self.cursor(uri, position)
        occ = analysis.index.at(analysis.path, line, column)
        return (analysis, occ) if occ else None

    def location(self, analysis: Analysis, pos: A.Pos, uris: dict[str, str] | None = None) -> T.Location:
        return T.Location(uri=self.uri_for(pos.file, uris), range=self.to_range(analysis.sources, pos))

    def uri_for(self, path: str, memo: dict[str, str] | None = None) -> str:
        """The URI of an open document (which may not be a file: untitled
        buffers), else the file's URI. `memo`: answers already given."""
        if memo is not None and path in memo:
            return memo[path]
        real = os.path.realpath(path)
        found = next((uri for uri in self.workspace.text_documents if _real_path_of(uri) == real),
                     None) or from_fs_path(os.path.abspath(path))
        if memo is not None:
            memo[path] = found
        return found

    # --- diagnostics ---

    def diagnostic(self, analysis: Analysis, d: Diagnostic, uris: dict[str, str] | None = None) -> T.Diagnostic:
        """A diagnostic of an imported file is shown on the import that reads it."""
        here = d.span is not None and (d.span.file == analysis.path or
                                       os.path.realpath(d.span.file) == os.path.realpath(analysis.path))
        message = d.message
        if here:
            where = self.to_range(analysis.sources, d.span)
        else:
            where = self.import_range(analysis, d.span)
            if d.span is not None:
                message = f"{d.span.file}:{d.span.line}:{d.span.column}: {message}"
        related = []
        for n in d.notes:
            location = (self.location(analysis, n.span, uris) if n.span is not None
                        else T.Location(uri=self.uri_for(analysis.path, uris), range=where))
            related.append(T.DiagnosticRelatedInformation(location=location,
                                                          message=f"{n.kind}: {n.message}"))
        return T.Diagnostic(
            range=where, message=message, code=d.code, source="mlc",
            severity=T.DiagnosticSeverity.Error if d.severity == "error" else T.DiagnosticSeverity.Warning,
            related_information=related or None)

    def import_range(self, analysis: Analysis, span: Span | None) -> T.Range:
        main = analysis.modules[0] if analysis.parsed else None
        imports = [d for d in main.decls if isinstance(d, A.Import)] if main else []
        if span is not None:
            target = os.path.realpath(span.file)
            for imp in imports:
                written = imp.path.literal() or ""
                if os.path.realpath(os.path.join(os.path.dirname(analysis.path), written)) == target:
                    return self.to_range(analysis.sources, imp.pos)
        if imports:
            return self.to_range(analysis.sources, imports[0].pos)
        return T.Range(start=_START, end=_START)


def diagnostic_json(d: T.Diagnostic) -> dict:
    """`d` as the protocol's JSON: what lsprotocol's converter gives for the
    fields `diagnostic` sets (tests/lsp/test_publish.py holds them equal)."""
    out = {"range": _range_json(d.range), "message": d.message, "severity": d.severity.value,
           "code": d.code, "source": d.source}
    if d.related_information:
        out["relatedInformation"] = [
            {"location": {"uri": r.location.uri, "range": _range_json(r.location.range)}, "message": r.message}
            for r in d.related_information]
    return out


def _range_json(r: T.Range) -> dict:
    return {"start": {"line": r.start.line, "character": r.start.character},
            "end": {"line": r.end.line, "character": r.end.character}}


def _path(uri: str) -> str:
    return to_fs_path(uri) or uri


def _real_path_of(uri: str) -> str:
    """Open documents are matched to files by real path (symlinks, `..`)."""
    return os.path.realpath(_path(uri))


_START = T.Position(line=0, character=0)


def build_server() -> MlcLanguageServer:
    server = MlcLanguageServer()

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MlcLanguageServer, params: T.DidOpenTextDocumentParams) -> None:
        ls.refresh(params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MlcLanguageServer, params: T.DidChangeTextDocumentParams) -> None:
        ls.refresh_soon(params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: MlcLanguageServer, params: T.DidSaveTextDocumentParams) -> None:
        ls.refresh(params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MlcLanguageServer, params: T.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)
        ls.refresh(params.text_document.uri)  # its importers now read it from disk

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(ls: MlcLanguageServer, params: T.HoverParams) -> T.Hover | None:
        found = ls.occurrence(params.text_document.uri, params.position)
        if found is None:
            return None
        analysis, occ = found
        ls.placed(params.text_document.uri, analysis)  # the hover shows where a stage runs
        text = hover_text(analysis, occ)
        if text is None:
            return None
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=text),
                       range=ls.to_range(analysis.sources, occ.pos))

    @server.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: MlcLanguageServer, params: T.DefinitionParams) -> T.Location | None:
        found = ls.occurrence(params.text_document.uri, params.position)
        if found is None:
            return None
        analysis, occ = found
        if occ.symbol.startswith("file:"):
            return T.Location(uri=ls.uri_for(occ.symbol.removeprefix("file:")),
                              range=T.Range(start=_START, end=_START))
        target = analysis.index.definitions.get(occ.symbol)
        return ls.location(analysis, target.pos) if target else None

    @server.feature(T.TEXT_DOCUMENT_REFERENCES)
    def references(ls: MlcLanguageServer, params: T.ReferenceParams) -> list[T.Location]:
        found = ls.occurrence(params.text_document.uri, params.position)
        if found is None:
            return []
        analysis, occ = found
        return [ls.location(analysis, o.pos) for o in analysis.index.references(occ.symbol)
                if params.context.include_declaration or not o.definition]

    @server.feature(T.TEXT_DOCUMENT_COMPLETION,
                    T.CompletionOptions(trigger_characters=[".", "=", " "]))
    def completion(ls: MlcLanguageServer, params: T.CompletionParams) -> T.CompletionList:
        uri = params.text_document.uri
        before, line, _ = ls.cursor(uri, params.position)
        analysis = ls.parsed.get(uri) or ls.latest.get(uri)
        index = analysis.index if analysis else Index()
        candidates = complete(before, index, _path(uri) if analysis is None else analysis.path, line)
        items = [T.CompletionItem(label=c.label, kind=_COMPLETION_KINDS.get(c.kind),
                                  detail=c.detail or None) for c in candidates]
        return T.CompletionList(is_incomplete=False, items=items)

    @server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(ls: MlcLanguageServer, params: T.DocumentSymbolParams) -> list[T.DocumentSymbol]:
        analysis = ls.parsed.get(params.text_document.uri)
        if analysis is None:
            return []
        return document_symbols(analysis.modules[0], lambda pos: ls.to_range(analysis.sources, pos))

    @server.feature(T.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: MlcLanguageServer, params: T.DocumentFormattingParams) -> list[T.TextEdit]:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        try:
            formatted = format_source(doc.source, _path(doc.uri))
        except FormatError:
            return []  # the diagnostics already show why
        if formatted == doc.source:
            return []
        end = T.Position(line=len(doc.lines), character=0)
        return [T.TextEdit(range=T.Range(start=_START, end=end), new_text=formatted)]

    return server


def serve() -> None:
    """pygls' stdio server (`start_io`), with stdin read ahead (lsp_io)."""
    server = build_server()
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))

    async def messages() -> None:
        reader = ReadAheadStdin(sys.stdin.buffer.fileno(), asyncio.get_running_loop(), server.input_drained)
        server.reads_ahead = True
        await run_async(stop_event=server.stopping, reader=reader, protocol=server.protocol,
                        error_handler=server.report_server_error)

    try:
        asyncio.run(messages())
    except BrokenPipeError:
        pass  # the editor is gone
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()
