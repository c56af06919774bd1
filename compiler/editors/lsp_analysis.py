"""What the language server knows about one document: the program rooted at
it (its AST and every imported file's), the checker's diagnostics, the
experiment and, when it can be placed, the plan.

Two steps, so that the checker's diagnostics are published before the rest
is computed: `analyse` checks; `place_analysis` places (its diagnostics
follow when there are any). The name index is built on first use (hover,
definitions, completion), not on every keystroke.

Open documents are read from the editor's buffers, not from disk: the front
end takes a `read` callback that answers with a buffer's text, or None to
read the file. Syntax trees come from the last parse of each file where
they can (`Parses`, lsp_parses: an unchanged text, or an edit inside a few
declarations); everything after parsing runs again, as it reads the disk
(project files)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .. import ir
from ..diagnostics import Diagnostic, SourceCache
from ..frontend import ast as A
from ..frontend import check, loader
from .lsp_index import Index, build_index
from .lsp_parses import Parses


@dataclass
class Analysis:
    path: str  # the document's path, as the front end names it in positions
    modules: list[A.Module] = field(default_factory=list)  # the document's first when it parses
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: SourceCache = field(default_factory=SourceCache)
    experiment: ir.Experiment | None = None
    plan: ir.Plan | None = None
    placed: bool = False  # place_analysis ran
    _index: Index | None = field(default=None, repr=False)

    @property
    def parsed(self) -> bool:
        return bool(self.modules) and self.modules[0].path == self.path

    @property
    def index(self) -> Index:
        if self._index is None:
            self._index = build_index(self.modules)
        return self._index


def analyse(path: str, buffers: dict[str, str], parses: Parses | None = None) -> Analysis:
    """Check the program rooted at `path`; `buffers` maps the real paths of
    open documents (`path` among them) to their text. Not placed yet.
    `parses`: syntax trees of earlier texts to reuse."""
    path = loader.display_path(path)
    result = Analysis(path)
    def read(p: str) -> str | None:
        return buffers.get(os.path.realpath(p))

    program, experiment, diags, sources = check(path, read=read, parse=parses.parse if parses else None)
    result.modules = program.modules
    result.sources = sources
    result.experiment = experiment
    result.diagnostics = diags.sorted()
    return result


def place_analysis(analysis: Analysis) -> bool:
    """Places the checked experiment (the plan hover shows); True when that
    added diagnostics (a pin, a deadline or a budget that cannot be met)."""
    from ..placement import PlacementError, place  # networkx: not before the first check

    analysis.placed = True
    if analysis.experiment is None:
        return False
    try:
        analysis.plan = place(analysis.experiment)
    except PlacementError as err:
        analysis.diagnostics = analysis.diagnostics + sorted(err.diagnostics, key=Diagnostic.sort_key)
        return True
    return False
