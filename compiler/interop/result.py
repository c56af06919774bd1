"""What an importer hands back to the command line."""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostic


@dataclass(frozen=True)
class ImportResult:
    """The generated .mlx text (empty when the input could not be read), the
    problems found, sorted by position, and, for `--sites`, a site catalog."""

    text: str
    diagnostics: list[Diagnostic]
    sites_text: str | None = None

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)
