"""Which sites can reach the services placed on which (SiteKind.service_reach),
and the pools that keep every consumer able to reach the services it uses.

Before scheduling, `narrow` drops the pools a service could take where some
consumer could reach it from none of its own pools, and the pools a consumer
could take where it could reach some service it uses from none of that
service's pools, until nothing changes. While scheduling, a consumer is
placed only where it reaches the sites its services were actually given
(listsched asks `can_reach`)."""

from __future__ import annotations

from ..diagnostics import Diagnostic, help_, note
from ..ir import Experiment, Input, Site
from ..sites import registry

UNREACHABLE = "E0750"  # a consumer can run nowhere it reaches a service it uses


def site_reach(sites: list[Site]) -> list[list[str | None]]:
    """[service site][consumer site]: how the consumer reaches it, or None."""
    return [[registry.of(a).service_reach(a, b) for b in sites] for a in sites]


def uses(units, index: dict[str, int]) -> list[list[int]]:
    """For each unit, the services (unit indices) its inputs are bound to."""
    out = []
    for unit in units:
        inputs: list[Input] = unit.inputs
        out.append(sorted({index[p.service] for p in inputs if p.service is not None and p.service in index}))
    return out


def can_reach(reach, pool_site: list[int], services_sites: list[int], p: int) -> bool:
    s = pool_site[p]
    return all(reach[a][s] is not None for a in services_sites)


def narrow(options: list[list[int]], used: list[list[int]], reach, pool_site: list[int]) -> list[tuple]:
    """Narrows `options` in place; returns, for the error, each (consumer,
    service, consumer's sites, service's sites) that left a unit no pool."""
    consumers: dict[int, list[int]] = {}
    for c, services in enumerate(used):
        for s in services:
            consumers.setdefault(s, []).append(c)
    stuck: list[tuple[int, int]] = []
    changed = True
    while changed:
        changed = False
        for s, cs in consumers.items():
            for c in cs:
                keep_c = [q for q in options[c]
                          if any(reach[pool_site[p]][pool_site[q]] is not None for p in options[s])]
                keep_s = [p for p in options[s]
                          if any(reach[pool_site[p]][pool_site[q]] is not None for q in options[c])]
                if not keep_c or not keep_s:
                    if options[c] and options[s]:
                        stuck.append((c, s, sorted({pool_site[q] for q in options[c]}),
                                      sorted({pool_site[p] for p in options[s]})))
                    options[c], options[s] = keep_c, keep_s
                    continue
                if keep_c != options[c] or keep_s != options[s]:
                    options[c], options[s], changed = keep_c, keep_s, True
    return stuck


def unreachable(experiment: Experiment, consumer, service, consumer_sites: list[Site],
                service_sites: list[Site]) -> Diagnostic:
    """E0750: the consumer can run on no site that reaches the service."""
    what = f"service `{consumer.name}`" if not hasattr(consumer, "id") else f"stage instance `{consumer.id}`"
    missing = [registry.of(site).missing_exposure(site) for site in service_sites]
    port = next(p for p in consumer.inputs if p.service == service.name)
    notes = [note(text, site.span) for text, site in zip(missing, service_sites)]
    where = ", ".join(site.name for site in consumer_sites) or "nowhere"
    notes.append(note(f"`{service.name}` can run on {', '.join(s.name for s in service_sites)}; "
                      f"the consumer on {where}"))
    notes.append(help_("declare an exposure (`expose = \"apps.example.org\"` on a Kubernetes site), "
                       "or pin the consumer and the service to one site"))
    return Diagnostic(UNREACHABLE, f"{what} cannot reach service `{service.name}` from any site it may run on",
                      port.span, "error", tuple(notes))
