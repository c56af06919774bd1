"""What each step holds while it runs, and how much of it each site has, so
that Snakemake keeps the plan's capacity (issue 16, item 1).

- A stage on a local site runs here: its rule asks `threads:` = its cpus
  and, as resources named after the site, its cpus, memory (MiB) and GPUs;
  the site's totals are the limits. Two 2-CPU stages on a 2-CPU site then
  run one after the other, whatever `--cores` says.
- A stage on an ssh host asks the same resources of its host, but no local
  thread: this machine only waits for ssh.
- A Slurm job (array) or Kubernetes workload holds no local thread while it
  waits, so `--cores 1` still keeps independent jobs in flight; each holds
  one `mlc_jobs_<site>`, limited to what the site's pools can run at once
  (one job per CPU: the smallest job asks one).

The limits go to `profiles/default/config.yaml`, Snakemake's workflow
profile, read by every `snakemake` run in the folder (mlc's or by hand);
`--resources` on the command line replaces them."""

from __future__ import annotations

import hashlib
import re

import yaml

from ..ir import Experiment, Plan, Site
from ..sites import registry
from .templating import generated_header

PROFILE = "profiles/default/config.yaml"
_MIB = 1024**2


def resource_name(what: str, site: str) -> str:
    """`mlc_<what>_<site>` as a Python identifier (Snakemake takes resources
    as keyword arguments); a site name that had to be changed keeps a hash
    so that two sites never share a resource."""
    folded = re.sub(r"[^A-Za-z0-9_]", "_", site)
    if folded != site:
        folded += "_" + hashlib.sha256(site.encode("utf-8")).hexdigest()[:6]
    return f"mlc_{what}_{folded}"


def step_holds(experiment: Experiment, site: Site, units: list[str]) -> tuple[int | None, dict[str, int]]:
    """(threads, resources) of the step that runs `units` on `site`;
    threads None: Snakemake's default (one). A service's step only starts
    it (the service outlives the step), so it holds nothing of the host."""
    stages = [experiment.instance(u) for u in units if not any(s.name == u for s in experiment.services)]
    kind = registry.of(site)
    if not kind.step_uses_host:
        return 0, {resource_name("jobs", site.name): 1}
    if not stages:
        return None, {}
    cpus = max(inst.resources.cpus for inst in stages)
    memory = max(inst.resources.memory for inst in stages)
    gpus = max((inst.resources.gpus.count if inst.resources.gpus else 0) for inst in stages)
    holds = {resource_name("cpus", site.name): cpus, resource_name("mem_mb", site.name): -(-memory // _MIB)}
    if gpus:
        holds[resource_name("gpus", site.name)] = gpus
    return (cpus if kind.is_workflow_machine else 0), holds


def site_limits(experiment: Experiment, sites: set[str]) -> dict[str, int]:
    """The resources each used site has, by the names step_holds uses."""
    limits: dict[str, int] = {}
    for site in sorted(experiment.sites, key=lambda s: s.name):
        if site.name not in sites:
            continue
        cpus = sum(p.nodes * p.cpus for p in site.pools)
        if not registry.of(site).step_uses_host:
            limits[resource_name("jobs", site.name)] = max(cpus, 1)
        else:
            limits[resource_name("cpus", site.name)] = cpus
            limits[resource_name("mem_mb", site.name)] = sum(p.nodes * p.memory for p in site.pools) // _MIB
            limits[resource_name("gpus", site.name)] = sum(p.nodes * p.gpus.count for p in site.pools if p.gpus)
    return limits


def profile(experiment: Experiment, plan: Plan, sites: set[str]) -> dict[str, str]:
    """The workflow profile that sets the sites' limits."""
    limits = site_limits(experiment, sites)
    header = (f"# {generated_header(experiment.span)}\n"
              "# Snakemake's workflow profile: how much of each site the steps may hold at\n"
              "# once (docs/running.md, \"Capacity\"). `snakemake --resources ...` replaces it.\n")
    body = yaml.safe_dump({"resources": [f"{name}={value}" for name, value in limits.items()]},
                          default_flow_style=False)
    return {PROFILE: header + body}
