"""Modules imported on first use, so that start-up pays only for what the
command needs (`mlc --version`, `mlc check` never build a Kubernetes object).

`client = lazy_module("kubernetes.client")` at the top of a module reads
like an import; the import runs at the first attribute lookup."""

from __future__ import annotations

import importlib
from types import ModuleType


class _LazyModule(ModuleType):
    def __getattr__(self, attr: str):
        module = importlib.import_module(self.__name__)
        value = getattr(module, attr)
        # Later lookups of `attr` find it here and skip __getattr__. Only
        # it: copying the module's namespace would copy a module-level
        # `__getattr__` too (kubernetes.client loads its models through
        # one), which the lookup then calls for every attribute, with an
        # import each time, instead of reaching this cache.
        setattr(self, attr, value)
        return value


def lazy_module(name: str) -> ModuleType:
    """A stand-in for the module `name`, imported when first used."""
    return _LazyModule(name)
