"""Modules imported on first use, so that start-up pays only for what the
command needs (`mlc --version`, `mlc check` never build a Kubernetes object).

`client = lazy_module("kubernetes.client")` at the top of a module reads
like an import; the import runs at the first attribute lookup."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

# Packages whose __init__ only imports their subpackages: mlc uses one of
# them (kubernetes.client's models) and skips the rest. kubernetes/__init__
# imports config (google-auth, oauthlib, requests), dynamic, watch, stream,
# utils, leaderelection and informer: ~0.1 s of a compile, for nothing.
_BARE_PACKAGES = ("kubernetes",)


class _LazyModule(ModuleType):
    def __getattr__(self, attr: str):
        module = _import(self.__name__)
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


def _import(name: str) -> ModuleType:
    top = name.partition(".")[0]
    if top in _BARE_PACKAGES and top not in sys.modules:
        _bare_package(top)
    return importlib.import_module(name)


def _bare_package(name: str) -> None:
    """Registers package `name` without running its __init__, so importing
    one subpackage imports only that one. Its other subpackages stay
    reachable as attributes (`kubernetes.config`), imported on first use,
    as the skipped __init__ would have made them; a name that is no
    subpackage (`__version__`) runs the __init__ after all. Not installed:
    nothing registered, and the import fails as it would have."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None or spec.loader is None:
        return
    package = importlib.util.module_from_spec(spec)
    completed: list[bool] = []

    def rest(attr: str) -> object:
        try:
            return importlib.import_module(f"{name}.{attr}")
        except ModuleNotFoundError as err:
            if err.name != f"{name}.{attr}":
                raise
        if not completed:
            completed.append(True)
            spec.loader.exec_module(package)
            if attr in package.__dict__:
                return package.__dict__[attr]
        raise AttributeError(f"module {name!r} has no attribute {attr!r}")

    package.__getattr__ = rest  # type: ignore[method-assign]
    sys.modules[name] = package
