"""The one error a back end raises: the experiment cannot be turned into
artifacts as planned (a value no scheduler accepts, a unit on a site kind
that cannot run it). It carries the source span so the CLI can point at it."""

from __future__ import annotations

from ..ir import Span


class BackendError(Exception):
    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span

    def __str__(self) -> str:
        where = f"{self.span.short()}: " if self.span else ""
        return f"{where}{self.message}"
