"""What the language server knows about one document: the program rooted at
it (its AST and every imported file's), the checker's diagnostics, the
experiment and, when it can be placed, the plan.

Open documents are read from the editor's buffers, not from disk: the front
end takes a `read` callback that answers with a buffer's text, or None to
read the file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .. import ir
from ..diagnostics import Diagnostic, SourceCache
from ..frontend import ast as A
from ..frontend import check, loader
from ..placement import PlacementError, place
from .lsp_index import Index, build_index


@dataclass
class Analysis:
    path: str  # the document's path, as the front end names it in positions
    modules: list[A.Module] = field(default_factory=list)  # the document's first when it parses
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: SourceCache = field(default_factory=SourceCache)
    experiment: ir.Experiment | None = None
    plan: ir.Plan | None = None
    index: Index = field(default_factory=Index)

    @property
    def parsed(self) -> bool:
        return bool(self.modules) and self.modules[0].path == self.path


def analyse(path: str, buffers: dict[str, str]) -> Analysis:
    """Check the program rooted at `path`; `buffers` maps the real paths of
    open documents (`path` among them) to their text."""
    path = loader.display_path(path)
    result = Analysis(path)
    def read(p: str) -> str | None:
        return buffers.get(os.path.realpath(p))

    program, experiment, diags, sources = check(path, read=read)
    result.modules = program.modules
    result.sources = sources
    result.index = build_index(program.modules)
    result.experiment = experiment
    items = diags.sorted()
    if experiment is not None:
        try:
            result.plan = place(experiment)
        except PlacementError as err:
            items += sorted(err.diagnostics, key=Diagnostic.sort_key)
    result.diagnostics = items
    return result
