"""Site kinds by name. Adding a kind: its package under compiler/sites/ and
one line here (docs/architecture.md, "Site kinds")."""

from __future__ import annotations

from ..ir import Site
from .base import SiteKind
from .kubernetes import KIND as KUBERNETES
from .local import KIND as LOCAL
from .slurm import KIND as SLURM
from .ssh import KIND as SSH

# In the order docs and messages list them.
KINDS: dict[str, SiteKind] = {kind.name: kind for kind in (SLURM, KUBERNETES, LOCAL, SSH)}

# What an experiment without sites runs on: this machine.
IMPLICIT = LOCAL


def kind(name: str) -> SiteKind:
    return KINDS[name]


def of(site: Site) -> SiteKind:
    return KINDS[site.kind]


def features_table() -> str:
    """Kind x feature as a Markdown table: docs/architecture.md quotes it
    (a test keeps the two equal)."""
    from .base import Access, Feature

    kinds = list(KINDS.values())
    lines = ["| feature | " + " | ".join(k.name for k in kinds) + " |",
             "| --- |" + " --- |" * len(kinds)]
    for feature in Feature:
        marks = " | ".join("yes" if k.has(feature) else "-" for k in kinds)
        lines.append(f"| `{feature.name}`: {feature.value} | {marks} |")
    lines.append("| pool keyword | " + " | ".join(f"`{k.pool_keyword}`" if k.pool_keyword else "(the site is its pool)"
                                           for k in kinds) + " |")
    for label, accesses in (("reached by", lambda k: k.reached_by), ("reaches (runs copies)", lambda k: k.reaches)):
        cells = (", ".join(f"`{a.name}`" for a in Access if a in accesses(k)) or "-" for k in kinds)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
