"""Which end of a transfer can reach which: the route a transfer takes.

Every kind states two sets of `Access` on its class (`SiteKind.reached_by`:
how another host gets at its work tree; `SiteKind.reaches`: what its own
host can get at when it runs a copy). An object-store path (s3://, gs://)
is an end of its own, reached by `OBJECT_STORE` and running nothing. The
workflow machine reaches every end it is given a way to (ssh, object
storage, `kubectl exec`), so it relays where neither end reaches the
other. A Kubernetes site with a `staging` bucket is reached through it
(`Access.STAGING`): such a transfer goes `via-store`, never through the
API server. An end nothing reaches (a Kubernetes site with neither
`staging` nor `data_path = "exec"`) has no route: `NO_ROUTE`."""

from __future__ import annotations

from typing import NamedTuple

from ..ir import Experiment, Route, Site
from . import registry
from .base import Access

# An object-store path as a transfer's source: read where it is.
STORE_REACHED_BY = frozenset({Access.OBJECT_STORE})
STORE_REACHES: frozenset[Access] = frozenset()
# What the workflow machine can stream from and into when it relays.
RELAYABLE = frozenset({Access.OBJECT_STORE, Access.SSH, Access.KUBECTL, Access.WORKFLOW_MACHINE})
NO_ROUTE = "none"  # placement reports it (E0806); never in the IR


class EndReach(NamedTuple):
    """One end of a transfer as far as routing goes."""

    reached_by: frozenset[Access]
    reaches: frozenset[Access]


def choose(source: EndReach, target: EndReach) -> str:
    """`direct-pull` (the target's host fetches), `direct-push` (the source's
    host sends), `via-store` (an end is a cluster reached through its staging
    bucket), `relay` (the workflow machine streams from one to the other) or
    NO_ROUTE. A pull is preferred when both could go direct. The workflow
    machine's own kind reaches everything it can relay, so with it as an end
    the copy is direct unless the other end is staged."""
    if target.reaches & source.reached_by:
        return "direct-pull"
    if source.reaches & target.reached_by:
        return "direct-push"
    if Access.STAGING in source.reached_by | target.reached_by:
        return "via-store"
    if source.reached_by & RELAYABLE and target.reached_by & RELAYABLE:
        return "relay"
    return NO_ROUTE


def end_of(site: Site, store: bool = False) -> EndReach:
    """A transfer's end at `site`: its work tree, or an object-store path
    read there (`store`; only a source is ever one)."""
    if store:
        return EndReach(STORE_REACHED_BY, STORE_REACHES)
    kind = registry.of(site)
    return EndReach(kind.site_reached_by(site), kind.reaches)


def staged(site: Site) -> bool:
    return Access.STAGING in registry.of(site).site_reached_by(site)


def staging_of(site: Site) -> str | None:
    return registry.of(site).staging(site)


def make_route(kind: str, source: Site, target: Site) -> Route:
    """The IR's Route of `kind` (from `choose`) between two sites: the site
    that runs the copy, and for `via-store` the bucket and the outside end
    whose own host uploads or downloads (None: the workflow machine does, or
    both ends are clusters)."""
    if kind != "via-store":
        return Route(kind=kind, runs_on={"direct-pull": target.name, "direct-push": source.name}.get(kind))
    # Data leaving a cluster is staged in that cluster's bucket (its push
    # Job writes there); data entering one, in the target's.
    bucket = staging_of(source) if staged(source) else staging_of(target)
    outside = next((s for s in (source, target) if not staged(s)), None)
    runs_on = None
    if outside is not None and Access.OBJECT_STORE in registry.of(outside).reaches:
        runs_on = outside.name
    return Route(kind=kind, runs_on=runs_on, staging=bucket)


def route(experiment: Experiment, source: str, target: str, path: str) -> Route:
    """The route of a transfer of `path` (at the source) from site `source`
    to site `target`, with the site that runs it."""
    a, b = experiment.site(source), experiment.site(target)
    kind = choose(end_of(a, "://" in path), end_of(b))
    if kind == NO_ROUTE:
        raise ValueError(f"no transfer route from site {source} to site {target}")
    return make_route(kind, a, b)
