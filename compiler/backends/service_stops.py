"""The workflow steps that end services whose lifetime is the experiment:
one per service, after the rules of all its consumers (and started only
then, so a consumer that fails leaves the service up for the re-run)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..sites import registry

if TYPE_CHECKING:
    from .snakefile import StepBuilder


def add(builder: StepBuilder) -> None:
    for service in builder.experiment.services:
        if service.lifetime != "experiment" or service.name not in builder.rule_of_unit:
            continue
        site = builder.experiment.site(builder.plan.where(service.name).site)
        rule = registry.of(site).service_stop_step(builder, service, site)
        if rule is None:
            continue
        consumers = [builder.rule_of_unit[u] for u in service.consumers if u in builder.rule_of_unit]
        builder._depend(rule, [builder.rule_of_unit[service.name], *consumers])
