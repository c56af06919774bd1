"""Which results of finished steps are gone, read from the folder: the
paths results.json lists per rule, looked up in the work tree of the rule's
site where this machine sees it (a local site; remote sites are not asked
here). A step whose results are gone is not done: `mlc run` runs it again."""

from __future__ import annotations

import json
from pathlib import Path

from ..backends.result_index import RESULTS
from ..ir import Experiment
from ..sites import registry
from . import jobs


def index(outdir: Path) -> dict:
    try:
        return json.loads((outdir / RESULTS).read_text(encoding="utf-8")).get("rules", {})
    except (OSError, ValueError, AttributeError):
        return {}


def work_trees(experiment: Experiment, outdir: Path) -> dict[str, Path]:
    """site -> its work tree, for the sites whose work tree this machine sees."""
    config = jobs.site_config(outdir)
    trees = {}
    for site in experiment.sites:
        folder = registry.of(site).results_folder(outdir, config.get(site.name, {}))
        if folder is not None:
            trees[site.name] = folder
    return trees


def gone(experiment: Experiment, outdir: Path) -> dict[str, list[Path]]:
    """rule -> the results it wrote that no longer exist (local sites only)."""
    trees = work_trees(experiment, outdir)
    missing: dict[str, list[Path]] = {}
    for rule, entry in index(outdir).items():
        tree = trees.get(entry.get("site", ""))
        if tree is None:
            continue
        paths = [tree / path for path in entry.get("outputs", []) if not (tree / path).exists()]
        if paths:
            missing[rule] = paths
    return missing


def forget_lost(experiment: Experiment, outdir: Path) -> dict[str, list[Path]]:
    """Remove the done flag of each finished rule whose results are gone, so
    Snakemake runs it (and what follows) again, also where it cannot see the
    results itself (a file name with braces); returns those rules."""
    lost = {rule: paths for rule, paths in gone(experiment, outdir).items() if jobs.done(outdir, rule)}
    for rule in lost:
        (outdir / ".mlc" / "done" / rule).unlink(missing_ok=True)
    return lost
