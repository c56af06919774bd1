"""Publishing outputs: `out m = file("m.pt", publish = "s3://bucket/m.pt")`
copies the output to object storage once its producer has written it.

The copy runs on the site that holds the data, a kind with
`Feature.PUBLISHES` (one without it is refused with the output's position).
A local site: this machine; a Slurm login host or an ssh host: over ssh;
for those, one script per published output, `publish/<id>.sh`, whose URI
reaches the shell only quoted (a literal here, `quote`d for a remote shell).
A kind whose own files copy it (`SiteKind.publish_step`: Kubernetes, an
rclone Job in the cluster, backends/kubernetes/fetch.py) gives its step."""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import Experiment, Output, Plan, StageInstance
from ..sites import registry
from ..sites.base import Feature
from .errors import BackendError
from .naming import file_stem, snake_rule
from .templating import render

_CLIENTS = {"s3": "aws", "gs": "gcloud"}


@dataclass(frozen=True)
class Publication:
    instance: StageInstance
    output: Output
    site: str

    @property
    def id(self) -> str:
        return f"{self.instance.id}.{self.output.name}"

    @property
    def script(self) -> str:
        return f"publish/{file_stem(self.id)}.sh"

    @property
    def scheme(self) -> str:
        return self.output.publish.split("://", 1)[0]


def publications(experiment: Experiment, plan: Plan) -> list[Publication]:
    found = []
    for instance in experiment.instances:
        for output in instance.outputs:
            if output.publish is None:
                continue
            site = experiment.site(plan.where(instance.id).site)
            kind = registry.of(site)
            if not kind.has(Feature.PUBLISHES):
                raise BackendError(
                    f"`{instance.id}` writes `{output.name}` on the {kind.title} site `{site.name}`, which cannot "
                    f"reach object storage to publish it to {output.publish}: pin the stage (`on = ...`) to a site "
                    "that can", output.span)
            found.append(Publication(instance, output, site.name))
    return found


def on_hosts(experiment: Experiment, plan: Plan) -> list[Publication]:
    """The publications that publish/<id>.sh copies, from the host that holds
    the data (not those a kind's own files copy: `SiteKind.publish_step`)."""
    return [pub for pub in publications(experiment, plan)
            if not registry.of(experiment.site(pub.site)).publishes_itself]


def of_site(experiment: Experiment, plan: Plan, site: str) -> list[Publication]:
    return [pub for pub in publications(experiment, plan) if pub.site == site]


def emit(experiment: Experiment, plan: Plan) -> dict[str, str]:
    from .transfers import end

    files = {}
    for pub in on_hosts(experiment, plan):
        files[pub.script] = render(
            "publish.sh.j2", span=pub.output.span, what=pub.id, site=pub.site, uri=pub.output.publish,
            scheme=pub.scheme, client=_CLIENTS[pub.scheme], kind=pub.output.kind,
            end=end(experiment, pub.site, pub.output.path),
        )
    return files


def add_steps(builder) -> None:
    """A rule per published output, after the rule that writes it."""
    from .snakefile import Param, Rule
    from .transfers import end

    experiment = builder.experiment
    for pub in publications(experiment, builder.plan):
        producer = builder.rule_of_unit[pub.instance.id]
        site = experiment.site(pub.site)
        if registry.of(site).publishes_itself:
            builder.add(registry.of(site).publish_step(builder, site, pub, producer.flag))
            continue
        kind = registry.kind(end(experiment, pub.site, pub.output.path).kind)
        params, exports = [], []
        for setting, key, join in kind.transfer_params(experiment):
            params.append(Param(f"source_{setting}", pub.site, key, join))
            exports.append(f"MLC_SOURCE_{setting.upper()}={{params.source_{setting}:q}}")
        builder.add(Rule(
            name=snake_rule(f"publish_{pub.id}"), comment=f"publish {pub.id} to {pub.output.publish}",
            files=[("script", pub.script)], params=params,
            shell=" ".join([*exports, "bash {input.script:q}"]), span=pub.output.span, after=[producer.flag],
        ))
