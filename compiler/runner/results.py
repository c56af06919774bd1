"""Which results of finished steps are gone, read from the folder: the
paths results.json lists per rule, looked up in the work tree of the rule's
site where this machine sees it (a local site; remote sites are not asked
here: `mlc run` asks remote sites, gone_remote). A step whose results are
gone is not done: `mlc run` runs it again."""

from __future__ import annotations

import json
from pathlib import Path

from ..backends.result_index import RESULTS
from ..ir import Experiment
from ..sites import registry
from . import jobs, remote_results


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


def gone_remote(experiment: Experiment, outdir: Path) -> tuple[dict[str, list[str]], list[str]]:
    """rule -> its results that are gone (or changed after the step
    finished: CHANGED), for the finished rules of sites this machine does
    not see, asked once per site (remote_results); and a line per site that
    could not be asked."""
    trees = work_trees(experiment, outdir)
    config = jobs.site_config(outdir)
    wanted: dict[str, dict[str, list[str]]] = {}  # site -> rule -> paths
    for rule, entry in index(outdir).items():
        site = entry.get("site", "")
        checkable = remote_results.asks(str(config.get(site, {}).get("kind", "")))
        if site not in trees and checkable and jobs.done(outdir, rule) and entry.get("outputs"):
            wanted.setdefault(site, {})[rule] = list(entry["outputs"])
    missing: dict[str, list[str]] = {}
    problems = []
    for site, rules in sorted(wanted.items()):
        settings = config.get(site, {})
        paths = sorted({path for paths in rules.values() for path in paths})
        found = remote_results.existing(str(settings.get("kind", "")), settings, experiment.name, paths,
                                        outdir, site)
        if isinstance(found, str):
            problems.append(f"results on site {site} not checked: {found}")
            continue
        for rule, paths in rules.items():
            flag = (outdir / ".mlc" / "done" / rule).stat().st_mtime
            lost = [f"{site}:{path}" for path in paths if path not in found]
            lost += [f"{site}:{path}{CHANGED}" for path in paths if path in found and _changed(found[path], flag)]
            if lost:
                missing[rule] = lost
    return missing, problems


CHANGED = " (changed after its step)"  # the mark of a result written since its step finished
# How far a host's clock may run ahead of this machine's before a result
# written by its step looks written after the step's end.
CLOCK_SKEW = 60.0


def _changed(found: remote_results.Found, flag_mtime: float) -> bool:
    """Whether a remote result was written after its step finished here
    (by hand, by another run): it is then no longer that step's result, and
    the step runs again (re-using its cached result when it has one)."""
    return found.mtime is not None and found.mtime > flag_mtime + CLOCK_SKEW


def forget_lost(experiment: Experiment, outdir: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Remove the done flag of each finished rule whose results are gone, so
    Snakemake runs it (and what follows) again, also where it cannot see the
    results itself (a remote site, a file name with braces); returns those
    rules with their lost paths, and the sites that could not be asked."""
    lost = {rule: [str(path) for path in paths]
            for rule, paths in gone(experiment, outdir).items() if jobs.done(outdir, rule)}
    remote, problems = gone_remote(experiment, outdir)
    lost.update(remote)
    for rule in lost:
        (outdir / ".mlc" / "done" / rule).unlink(missing_ok=True)
    return lost, problems
