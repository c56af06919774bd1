"""The Kubernetes back end: manifests and the kubectl glue for one site.

`emit_site` returns every file of a Kubernetes site under `k8s/<site>/`;
`run_script` tells the Snakefile which script runs a unit (sweep members
placed on one pool share an Indexed Job, hence one script); `up.sh` must run
before any unit or transfer into the site, `down.sh` for `mlc down`.
docs/kubernetes.md describes the mapping."""

from __future__ import annotations

from compiler.backends.kubernetes.fetch import (
    cache_fetch,
    fetch_of,
    is_fetch,
    publish_of,
    push_of,
    rclone_flags,
    remote,
    ship_fetch,
    shipped,
    shipped_cache,
    staged_parts,
)
from compiler.backends.kubernetes.pods import WORK_MOUNT
from compiler.backends.kubernetes.site import emit_site, site_dir
from compiler.backends.kubernetes.workloads import run_script_name, workload_of
from compiler.ir import Experiment, Plan, ProjectPath, Site, Transfer


def run_script(experiment: Experiment, plan: Plan, unit: str) -> str:
    """The script (path in the output folder) that runs a stage instance or
    service placed on a Kubernetes site; members of one Indexed Job share it."""
    workload = workload_of(experiment, plan, unit)
    return f"{site_dir(workload.pool.site)}/{run_script_name(workload.unit)}"


def up_script(site_name: str) -> str:
    """Prepares the site (namespace, work volume, data mover); idempotent."""
    return f"{site_dir(site_name)}/up.sh"


def down_script(site_name: str) -> str:
    """Deletes what the experiment deployed there (`--volumes`: its claim too)."""
    return f"{site_dir(site_name)}/down.sh"


def fetch_script(experiment: Experiment, plan: Plan, transfer: Transfer) -> str:
    """The script (path in the output folder) whose in-cluster Job copies a
    data set from object storage into the target site's work volume."""
    # One transfer's Job directly: scanning the site's list per transfer was quadratic.
    return f"{site_dir(transfer.target_site)}/{fetch_of(experiment, transfer).script}"


def ship_script(experiment: Experiment, site: Site, path: ProjectPath, source: str) -> str:
    """The script whose in-cluster Job copies a shipped project path from the
    staging bucket into the site's work volume."""
    return f"{site_dir(site.name)}/{ship_fetch(experiment, site, path, source).script}"


def cache_ship_script(experiment: Experiment, site: Site, copy: str, source: str) -> str:
    """The script whose in-cluster Job copies the result cache's copy from
    the staging bucket to .mlc/step_cache.py in the site's work volume."""
    return f"{site_dir(site.name)}/{cache_fetch(experiment, site, copy, source).script}"


def push_script(experiment: Experiment, plan: Plan, transfer: Transfer) -> str:
    """The script whose in-cluster Job copies a via-store transfer from the
    source site's work volume to its staging bucket."""
    return f"{site_dir(transfer.source_site)}/{push_of(experiment, transfer).script}"


def publish_script(experiment: Experiment, plan: Plan, publication) -> str:
    """The script whose in-cluster Job copies a published output from the
    site's work volume to its URI (compiler/backends/publishing.py)."""
    return f"{site_dir(publication.site)}/{publish_of(experiment, publication).script}"


__all__ = ["WORK_MOUNT", "cache_ship_script", "down_script", "emit_site", "fetch_script", "is_fetch", "publish_script", "push_script",
           "rclone_flags", "remote", "run_script", "ship_script", "shipped", "shipped_cache", "staged_parts", "up_script"]
