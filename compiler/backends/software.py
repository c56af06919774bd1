"""A stage's software environment as a host script loads it (Slurm, ssh,
local): its modules, then a conda or virtual environment. The shell text is
templates/_software.sh.j2; this module decides what goes in it.

A conda environment file is created once per site, into a cache beside the
experiments' work roots (`<work root>/../.mlc-cache/conda/<sha256>`), under
a lock, and activated by every job after that."""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import Service, StageInstance

CACHE = ".mlc-cache"  # in the parent of the experiment's work root on the site


@dataclass(frozen=True)
class HostSoftware:
    modules: tuple[str, ...] = ()
    conda_name: str | None = None
    conda_file: str | None = None  # as written, for a comment
    conda_spec: str | None = None
    conda_digest: str | None = None
    venv: str | None = None

    def __bool__(self) -> bool:
        return bool(self.modules or self.conda_name or self.conda_spec is not None or self.venv)


def host_software(unit: StageInstance | Service) -> HostSoftware:
    """What the unit's script loads before its command (nothing for a
    service; a stage with an image has no conda or venv: the checker refuses them)."""
    if not isinstance(unit, StageInstance):
        return HostSoftware()
    software = unit.software
    conda = software.conda
    venv = software.venv
    if venv is not None and venv.startswith("-"):
        venv = "./" + venv  # never read as an option of `.`
    return HostSoftware(
        modules=tuple(software.modules),
        conda_name=conda.name if conda is not None else None,
        conda_file=conda.file if conda is not None else None,
        conda_spec=conda.spec if conda is not None else None,
        conda_digest=conda.digest if conda is not None else None,
        venv=venv,
    )


def keeps_site_modules(units: list[StageInstance]) -> bool:
    """Whether the site's modules are loaded for these units (the members of
    one job): all of them must agree, and a stage says no with `site_modules = false`."""
    return all(u.software.site_modules for u in units)
