"""The workflow steps that end services whose lifetime is the experiment:
one per service, after the rules of all its consumers (and started only
then, so a consumer that fails leaves the service up for the re-run)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..sites import registry

if TYPE_CHECKING:
    from .snakefile import Rule, StepBuilder


STOPS = ("service stops",)  # builder.memo key: service name -> its stop rule


def started_any_time(builder: StepBuilder, unit: str, rule: Rule) -> None:
    """A unit's rule waits for the rules that start the services it uses,
    however recently they ran."""
    for port in builder.experiment.unit(unit).inputs:
        start = builder.rule_of_unit.get(port.service) if port.service is not None else None
        if start is not None and start is not rule:
            rule.ancient = sorted(set(rule.ancient) | {start.flag})


def add(builder: StepBuilder) -> None:
    """A stop step per service whose lifetime is the experiment, after its
    consumers: a stage's rule, or a consuming service's own stop step (a
    service used by one that is never stopped is not stopped either)."""
    stops = builder.memo(STOPS, dict)
    experiment = builder.experiment
    is_service = {s.name for s in experiment.services}
    # Consumers first: a service's stop waits for the stops of the services that use it.
    for service in reversed(experiment.services):
        if service.lifetime != "experiment" or service.name not in builder.rule_of_unit:
            continue
        if any(c in is_service and c not in stops for c in service.consumers):
            continue  # a service that uses it runs on
        site = experiment.site(builder.plan.where(service.name).site)
        rule = registry.of(site).service_stop_step(builder, service, site)
        if rule is None:
            continue
        consumers = [stops[u] if u in is_service else builder.rule_of_unit.get(u) for u in service.consumers]
        builder._depend(rule, [builder.rule_of_unit[service.name], *consumers])
        stops[service.name] = rule


def service_rules(builder: StepBuilder) -> dict[str, list[str]]:
    """For each service placed, the names of the rules that start and stop
    it: the flags `mlc down` removes."""
    builder.build()
    stops = builder.memo(STOPS, dict)
    return {s.name: [r.name for r in (builder.rule_of_unit.get(s.name), stops.get(s.name)) if r is not None]
            for s in builder.experiment.services}
