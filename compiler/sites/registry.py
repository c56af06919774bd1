"""Site kinds by name. Adding a kind: its package under compiler/sites/ and
one line here (docs/architecture.md, "Site kinds")."""

from __future__ import annotations

from ..ir import Site
from .base import SiteKind
from .kubernetes import KIND as KUBERNETES
from .local import KIND as LOCAL
from .slurm import KIND as SLURM

# In the order docs and messages list them.
KINDS: dict[str, SiteKind] = {kind.name: kind for kind in (SLURM, KUBERNETES, LOCAL)}

# What an experiment without sites runs on: this machine.
IMPLICIT = LOCAL


def kind(name: str) -> SiteKind:
    return KINDS[name]


def of(site: Site) -> SiteKind:
    return KINDS[site.kind]
