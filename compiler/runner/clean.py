"""`mlc clean`: remove the cached results (runner/step_cache.py) that no
result in a work tree shows any more, and nothing else.

A result is shown when a stage-visible path holds it: step_cache records
`<tree>/.mlc/cache/shown/<hash of the path>.json` = {path, key} each time it
runs or re-uses a step. A cached result is kept while some shown record
names its key and that path still exists, whichever experiment wrote it
(experiments sharing a work tree share its cache); any other entry goes.
Without --delete nothing is removed: it lists what would be."""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from ..ir import Experiment
from . import results
from .step_cache import CACHE, SHOWN

KEY = re.compile(r"[0-9a-f]{64}")  # a cached result's folder: its key


@dataclass(frozen=True)
class Entry:
    path: Path
    step: str
    params: dict
    size: int


def shown_keys(tree: Path) -> set[str]:
    keys = set()
    for record_path in sorted((tree / SHOWN).glob("*.json")):
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and (tree / str(record.get("path", ""))).exists():
            keys.add(str(record.get("key", "")))
    return keys


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def unreferenced(tree: Path) -> list[Entry]:
    """The cache entries of a work tree that no shown result names."""
    keep = shown_keys(tree)
    entries = []
    cache = tree / CACHE
    for entry in sorted(cache.iterdir()) if cache.is_dir() else []:
        if not KEY.fullmatch(entry.name) or entry.name in keep or not entry.is_dir():
            continue  # `.tmp-*`: a step storing its result right now; shown/, notes/: bookkeeping
        try:
            record = json.loads((entry / "record.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        entries.append(Entry(entry, str(record.get("step", "?")), record.get("params", {}), _size(entry)))
    return entries


def _amount(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def clean(experiment: Experiment, outdir: Path, args) -> int:
    if not (outdir / "config.yaml").exists():
        print(f"mlc: {outdir}: not compiled yet: no config.yaml there says where the work trees are "
              "(run `mlc compile` or `mlc run`, with the same -o and -p)", file=sys.stderr)
        return 2
    delete = getattr(args, "delete", False)
    total = count = 0
    for site, tree in sorted(results.work_trees(experiment, outdir).items()):
        for entry in unreferenced(tree):
            params = " ".join(f"{k}={v}" for k, v in sorted(entry.params.items()))
            print(f"{'removed' if delete else 'would remove'} {entry.path} ({entry.step}"
                  f"{', ' + params if params else ''}; {_amount(entry.size)})")
            if delete:
                shutil.rmtree(entry.path)
            total += entry.size
            count += 1
    if not count:
        print("nothing to clean: every cached result is shown in a work tree")
    elif delete:
        print(f"removed {count} cached result{'s' if count != 1 else ''} ({_amount(total)})")
    else:
        print(f"{count} cached result{'s' if count != 1 else ''} ({_amount(total)}) no work tree shows; "
              "nothing was removed: `mlc clean --delete` removes them")
    return 0
