"""Which end of a transfer can reach which: the route a transfer takes.

Every kind states two sets of `Access` on its class (`SiteKind.reached_by`:
how another host gets at its work tree; `SiteKind.reaches`: what its own
host can get at when it runs a copy). An object-store path (s3://, gs://)
is an end of its own, reached by `OBJECT_STORE` and running nothing. The
workflow machine reaches every end, so it can always relay; it is used only
where neither end reaches the other."""

from __future__ import annotations

from typing import NamedTuple

from ..ir import Experiment, Route, Site
from . import registry
from .base import Access

# An object-store path as a transfer's source: read where it is.
STORE_REACHED_BY = frozenset({Access.OBJECT_STORE})
STORE_REACHES: frozenset[Access] = frozenset()


class EndReach(NamedTuple):
    """One end of a transfer as far as routing goes."""

    reached_by: frozenset[Access]
    reaches: frozenset[Access]


def choose(source: EndReach, target: EndReach) -> str:
    """`direct-pull` (the target's host fetches), `direct-push` (the source's
    host sends) or `relay` (the workflow machine streams from one to the
    other). A pull is preferred when both could go direct. The workflow
    machine's own kind reaches everything, so with it as an end the copy is
    always direct."""
    if target.reaches & source.reached_by:
        return "direct-pull"
    if source.reaches & target.reached_by:
        return "direct-push"
    return "relay"


def end_of(site: Site, store: bool = False) -> EndReach:
    """A transfer's end at `site`: its work tree, or an object-store path
    read there (`store`; only a source is ever one)."""
    if store:
        return EndReach(STORE_REACHED_BY, STORE_REACHES)
    kind = registry.of(site)
    return EndReach(kind.reached_by, kind.reaches)


def route(experiment: Experiment, source: str, target: str, path: str) -> Route:
    """The route of a transfer of `path` (at the source) from site `source`
    to site `target`, with the site that runs it."""
    kind = choose(end_of(experiment.site(source), "://" in path), end_of(experiment.site(target)))
    return Route(kind=kind, runs_on={"direct-pull": target, "direct-push": source}.get(kind))
