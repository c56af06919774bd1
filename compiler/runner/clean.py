"""`mlc clean`: remove the cached results (runner/step_cache.py) that no
result in a work tree shows any more, and nothing else.

A result is shown when a stage-visible path holds it: step_cache records
`<tree>/.mlc/cache/shown/<hash of the path>.json` = {path, key} each time it
runs or re-uses a step. A cached result is kept while some shown record
names its key and that path still exists, whichever experiment wrote it
(experiments sharing a work tree share its cache); any other entry goes.
The rule is step_cache's own (`unreferenced`): this machine's work trees
are read here; a Slurm or ssh site's work root is asked on its host, with
one call per site that runs the shipped copy there (`python3
.mlc/step_cache.py --clean [--delete]`). Without --delete nothing is
removed: it lists what would be."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

from pathlib import Path

from ..ir import Experiment
from ..sites import registry
from . import jobs, results
from .step_cache import STEP_CACHE_HERE, unreferenced as unreferenced_entries

TIMEOUT = 300


@dataclass(frozen=True)
class Entry:
    path: str  # on the site's host
    step: str
    params: dict
    size: int


def unreferenced(tree: Path) -> list[Entry]:
    """The cache entries of a work tree on this machine that no shown result names."""
    return [Entry(e["path"], e["step"], e["params"], e["size"]) for e in unreferenced_entries(tree)]


def _remote(experiment: Experiment, site: str, config: dict, delete: bool) -> list[Entry] | str | None:
    """Asks a remote site's step cache; the entries, or why it could not be
    asked; None for a kind the runner does not reach in its work root (a
    Kubernetes cache lives in the run's work volume and goes with it)."""
    kind = registry.KINDS.get(str(config.get("kind", "")))
    argv = ["python3", STEP_CACHE_HERE, "--clean", *(["--delete"] if delete else [])]
    command = kind.work_root_command(experiment.name, config, argv) if kind is not None else None
    if kind is None:
        return "not reached"
    if command is None:
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                              cwd=os.path.expanduser("~"))  # a relative work root: under $HOME
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if done.returncode == 3:
        return "no work root there yet"
    if done.returncode != 0:
        return (done.stderr.strip() or f"exit status {done.returncode}").splitlines()[-1]
    entries = []
    for line in done.stdout.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue  # a login banner
        if isinstance(e, dict) and {"path", "step", "params", "size"} <= set(e):
            root = str(config.get("root") or f"{str(config.get('scratch', '')).rstrip('/')}/{experiment.name}")
            entries.append(Entry(f"{site}:{root}/{e['path']}", str(e["step"]), e["params"], int(e["size"])))
    return entries


def _caching_remote_sites(experiment: Experiment, outdir: Path) -> dict[str, dict]:
    """site -> its config, for the sites whose steps run the cache on their own host."""
    config = jobs.site_config(outdir)
    used = {entry.get("site") for entry in results.index(outdir).values()}
    return {site.name: config.get(site.name, {}) for site in experiment.sites
            if site.name in used and registry.of(site).step_cache_copy}


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
    found: list[Entry] = []
    for site, tree in sorted(results.work_trees(experiment, outdir).items()):
        for entry in unreferenced(tree):
            if delete:
                shutil.rmtree(entry.path)
            found.append(entry)
    problems = 0
    for site, config in sorted(_caching_remote_sites(experiment, outdir).items()):
        entries = _remote(experiment, site, config, delete)  # removed there already with --delete
        if entries is None:
            continue
        if isinstance(entries, str):
            if entries != "no work root there yet":
                print(f"mlc: cached results on site {site} not cleaned: {entries}", file=sys.stderr)
                problems += 1
            continue
        found += entries
    for entry in found:
        params = " ".join(f"{k}={v}" for k, v in sorted(entry.params.items()))
        print(f"{'removed' if delete else 'would remove'} {entry.path} ({entry.step}"
              f"{', ' + params if params else ''}; {_amount(entry.size)})")
    total, count = sum(e.size for e in found), len(found)
    if not count:
        print("nothing to clean: every cached result is shown in a work tree")
    elif delete:
        print(f"removed {count} cached result{'s' if count != 1 else ''} ({_amount(total)})")
    else:
        print(f"{count} cached result{'s' if count != 1 else ''} ({_amount(total)}) no work tree shows; "
              "nothing was removed: `mlc clean --delete` removes them")
    return 2 if problems else 0  # a site that could not be asked: an I/O problem
