"""lark's LALR tables, built once per grammar and kept in the user's cache
folder: building them costs about 70-150 ms on every run, loading them
about 20 ms.

The file is named by a hash of everything the tables depend on (the grammar
text, the parser options, lark's and Python's versions), so an edited
grammar or an upgraded lark gets its own file and a stale one is never
read. It is written atomically (a temporary file renamed over the name):
concurrent runs see a whole file or none. Nothing is written into the
project folder, and any failure to read or write the cache only means the
tables are built as before: the parser is the same either way. The file is
a pickle, so only one owned by the user and writable by nobody else is read.

    MLC_CACHE_DIR       the folder (default $XDG_CACHE_HOME/mlc, ~/.cache/mlc);
                        empty: no cache
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from lark import Lark
from lark import __version__ as LARK_VERSION

_PREFIX = "parser-"


def cache_dir() -> Path | None:
    """The folder, or None when caching is switched off."""
    explicit = os.environ.get("MLC_CACHE_DIR")
    if explicit is not None:
        return Path(explicit) if explicit else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mlc"


def key(grammar: str, options: dict[str, Any]) -> str:
    """What the tables depend on, hashed. `options` must print the same in
    every run (classes print as their qualified names)."""
    described = "\0".join(f"{k}={options[k]!r}" for k in sorted(options))
    text = "\0".join((grammar, described, LARK_VERSION, "%d.%d" % sys.version_info[:2]))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def cached_lark(grammar: str, options: dict[str, Any], transformer: Callable[[], Any]) -> Lark:
    """A Lark LALR parser for `grammar` with `options`, its tables read from the
    cache when they are there; `transformer()` makes the inline transformer
    (not part of the tables, so not part of the key)."""
    folder = cache_dir()
    path = folder / f"{_PREFIX}{key(grammar, options)}.pickle" if folder is not None else None
    if path is not None:
        loaded = _load(path, transformer)
        if loaded is not None:
            return loaded
    parser = Lark(grammar, **options, transformer=transformer(), cache=False)
    if path is not None:
        _save(parser, path)
    return parser


def _load(path: Path, transformer: Callable[[], Any]) -> Lark | None:
    try:
        with open(path, "rb") as f:
            # Unpickling runs code: only a file this user wrote and nobody
            # else may change (mkstemp makes it 0600) is read.
            st = os.fstat(f.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return None
            return Lark.__new__(Lark)._load(f, transformer=transformer())
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a truncated or foreign file: build the tables instead
        return None


def _save(parser: Lark, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    except OSError:  # a read-only home, say: no cache
        return
    try:
        with os.fdopen(fd, "wb") as f:
            parser.save(f, exclude_options={"transformer"})
        os.replace(temporary, path)
    except Exception:  # noqa: BLE001 - a full disk: no cache, and no stray file
        try:
            os.unlink(temporary)
        except OSError:
            pass
