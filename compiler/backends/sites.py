"""A site's settings as the back ends use them: the IR's defaults where the
front end left a kind's settings out, and each site's work root."""

from __future__ import annotations

import posixpath

from ..ir import Experiment, KubernetesSettings, LocalSettings, Site, SlurmSettings


def local_settings(site: Site) -> LocalSettings:
    return site.local or LocalSettings()


def slurm_settings(site: Site) -> SlurmSettings:
    return site.slurm or SlurmSettings()


def kubernetes_settings(site: Site) -> KubernetesSettings:
    return site.kubernetes or KubernetesSettings()


def local_workdir(site: Site) -> str:
    """A local site's work tree: <workdir>/<site>, relative to the output
    folder unless absolute."""
    return posixpath.join(local_settings(site).workdir, site.name)


def slurm_root(experiment: Experiment, site: Site) -> str:
    """The experiment's work root on a Slurm site (relative: to $HOME there)."""
    return f"{slurm_settings(site).scratch.rstrip('/')}/{experiment.name}"
