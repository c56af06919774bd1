"""Identifiers for the peer languages (WDL, Snakemake): task and file IDs
folded to [A-Za-z0-9_], distinct, never a keyword, never starting with a digit."""

from __future__ import annotations

import re

_INVALID = re.compile(r"[^A-Za-z0-9_]+")


class Identifiers:
    """Maps each raw name to one identifier, the same one on every call."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix  # keeps names clear of keywords and leading digits
        self._given: dict[str, str] = {}
        self._taken: set[str] = set()

    def __call__(self, raw: str) -> str:
        if raw in self._given:
            return self._given[raw]
        base = self._prefix + _INVALID.sub("_", raw)
        name, counter = base, 2
        while name in self._taken:
            name, counter = f"{base}_{counter}", counter + 1
        self._taken.add(name)
        self._given[raw] = name
        return name
