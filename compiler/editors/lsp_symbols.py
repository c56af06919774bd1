"""The outline of a document: its declarations, with a site's pools and a
stage's or service's ports as children."""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types as T

from ..frontend import ast as A

_KINDS = {
    A.Experiment: T.SymbolKind.Module, A.Param: T.SymbolKind.Constant,
    A.Secret: T.SymbolKind.Key, A.Dataset: T.SymbolKind.File, A.Site: T.SymbolKind.Namespace,
    A.Link: T.SymbolKind.Event, A.Template: T.SymbolKind.Class, A.Stage: T.SymbolKind.Function,
    A.Service: T.SymbolKind.Interface,
}


def document_symbols(module: A.Module, to_range: Callable[[A.Pos], T.Range]) -> list[T.DocumentSymbol]:
    symbols = []
    for d in module.decls:
        if isinstance(d, A.Import):
            continue
        if isinstance(d, A.Link):
            arrow = "<->" if d.symmetric else "->"
            name, detail = f"{d.source} {arrow} {d.target}", "link"
            selection = d.source_pos.to(d.target_pos)
        else:
            name, selection = d.name, d.name_pos
            detail = type(d).__name__.lower()
        children = []
        if isinstance(d, A.Site):
            detail = f"{d.kind} site"
            children = [T.DocumentSymbol(name=p.name, kind=T.SymbolKind.Struct, detail=p.keyword,
                                         range=to_range(p.pos), selection_range=to_range(p.name_pos))
                        for p in d.pools]
        elif isinstance(d, (A.Stage, A.Service, A.Template)):
            body = d.body
            children = [T.DocumentSymbol(name=p.name, kind=T.SymbolKind.Field,
                                         detail="output" if p.direction == "out" else "input",
                                         range=to_range(p.pos), selection_range=to_range(p.name_pos))
                        for p in body.ports]
        symbols.append(T.DocumentSymbol(name=name, kind=_KINDS[type(d)], detail=detail,
                                        range=to_range(d.pos), selection_range=to_range(selection),
                                        children=children or None))
    return symbols
