"""Identifiers for generated .mlx declarations: foreign names (MLDev keys,
WfFormat task and file IDs) made into valid, non-keyword, unique names."""

from __future__ import annotations

import re
from functools import lru_cache

from ..frontend.scope import RESERVED
from ..resources import grammar_path

_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """Names no declaration may take: the grammar's keyword literals and the
    words the checker reserves (`file`, `dir`, objective kinds)."""
    text = grammar_path().read_text(encoding="utf-8")
    return frozenset(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', text)) | RESERVED


def identifier(raw: str, fallback: str) -> str:
    """`raw` with every run of invalid characters folded to `_`; `fallback`
    (itself an identifier) replaces an empty result and prefixes a leading digit."""
    name = _NOT_IDENTIFIER.sub("_", raw).strip("_")
    if not name:
        return fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    if name in keywords():
        name = f"{name}_"
    return name


class NameAllocator:
    """Hands out distinct identifiers in call order: the second `data` becomes
    `data_2`. Deterministic for a given sequence of requests."""

    def __init__(self, reserved: set[str] | None = None) -> None:
        self._taken: set[str] = set(reserved or ())
        self._next_suffix: dict[str, int] = {}  # keeps a run of `fits_N` linear

    def allocate(self, raw: str, fallback: str) -> str:
        base = identifier(raw, fallback)
        name = base
        counter = self._next_suffix.get(base, 2)
        while name in self._taken:
            name = f"{base}_{counter}"
            counter += 1
        self._next_suffix[base] = counter
        self._taken.add(name)
        return name
