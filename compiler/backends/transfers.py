"""Transfer scripts: `transfers/<id>.sh` moves one piece of data (a data set
or a stage output) between two sites, as listed in plan.transfers.

The tool follows from the two ends (the plan names none): rsync when both
are hosts (over ssh for a Slurm site with a login host, a plain local copy
otherwise), `aws s3` / `gcloud storage` for an object-store source, and
`tar | kubectl exec -i` into the site's data mover for a Kubernetes end.
When neither end is reachable from this machine by file system, the data is
staged here (under .mlc/staging/) between the two hops."""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import DatasetRef, Experiment, Plan, Transfer
from ..sites import registry
from ..sites.base import Feature
from . import kubernetes
from .errors import BackendError
from .naming import file_stem, k8s_data_mover
from .templating import render

_SCHEMES = {"s3": "aws", "gs": "gcloud"}
URI = "uri"  # End.kind of an object-store path, read where it is


@dataclass(frozen=True)
class End:
    """One end of a transfer as the script needs it."""

    site: str
    kind: str  # a site kind's name, or URI for an object-store path
    path: str
    scheme: str = ""  # for kind == "uri"
    root: str = ""  # local and Slurm work roots (defaults; config.yaml overrides)
    login: str = ""  # Slurm's login host; an ssh site's host
    ssh_config: str = ""  # ssh sites: the ssh config file ("" for the user's own)
    context: str = ""  # Kubernetes
    namespace: str = ""

    @property
    def is_uri(self) -> bool:
        return self.kind == URI


def script_path(transfer: Transfer) -> str:
    return f"transfers/{file_stem(transfer.id)}.sh"


def end(experiment: Experiment, site_name: str, path: str) -> End:
    scheme, sep, _ = path.partition("://")
    if sep:
        if scheme not in _SCHEMES:
            raise BackendError(f"cannot fetch {path!r}: only {', '.join(f'{s}://' for s in _SCHEMES)} are supported")
        return End(site=site_name, kind=URI, path=path, scheme=scheme)
    site = experiment.site(site_name)
    return registry.of(site).transfer_end(experiment, site, path)


def tools(source: End, target: End) -> list[str]:
    """What the machine running the workflow needs for this transfer."""
    needed = set()
    for e in (source, target):
        needed |= {_SCHEMES[e.scheme]} if e.is_uri else registry.kind(e.kind).transfer_tools(e)
    if all(not e.is_uri and registry.kind(e.kind).has(Feature.RSYNC) for e in (source, target)):
        needed.add("rsync")
    return sorted(needed)


def emit(experiment: Experiment, plan: Plan) -> dict[str, str]:
    files = {}
    for transfer in plan.transfers:
        source = end(experiment, transfer.source_site, transfer.path)
        target = end(experiment, transfer.target_site, transfer.target_path)
        if target.is_uri:
            raise BackendError(f"transfer {transfer.id}: cannot write into {transfer.target_path!r}")
        files[script_path(transfer)] = render(
            "transfer.sh.j2",
            span=provenance(experiment, transfer),
            id=transfer.id,
            what=transfer.what.label,
            kind=transfer.kind,
            stem=file_stem(transfer.id),
            source=source,
            target=target,
            tools=tools(source, target),
            mover=k8s_data_mover(experiment.name),
            mover_root=kubernetes.WORK_MOUNT,
        )
    return files


def provenance(experiment: Experiment, transfer: Transfer):
    """The span of what is moved: the data set or the producing instance."""
    what = transfer.what
    if isinstance(what, DatasetRef):
        return next((d.span for d in experiment.datasets if d.name == what.dataset), experiment.span)
    try:
        return experiment.instance(what.instance).span
    except KeyError:
        return experiment.span
