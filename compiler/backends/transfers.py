"""Transfer scripts: `transfers/<id>.sh` moves one piece of data (a data set
or a stage output) between two sites, as listed in plan.transfers, by the
route the plan chose (Transfer.route):

- direct, run on this machine (one end is the workflow machine): rsync,
  `aws s3` / `gcloud storage`, or `tar | kubectl exec -i` into the data mover;
- direct, run on a remote host over ssh (a Slurm login host pulls from
  object storage, or rsyncs with another ssh host);
- relayed through this machine: the source's reader piped into the
  target's writer (tar streams over ssh and kubectl exec), never on disk here;
- via the staging bucket of a Kubernetes end: uploaded with rclone (here,
  on the source's host, or by a push Job in the source cluster), then
  downloaded (here, on the target's host, or by a fetch Job in the target
  cluster); an ssh host, which reaches no object storage, goes through a
  copy under the output folder.

How each end is reached (End.access) comes from its kind's `reached_by`."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..ir import DatasetRef, Experiment, Plan, Route, Transfer
from ..sites import registry
from ..sites.base import Access
from . import kubernetes
from .errors import BackendError
from .kubernetes.run_identity import RUN_ID_FUNCTION
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
    access: str = ""  # how it is reached: an Access name, lower case (set by `end`)

    @property
    def is_uri(self) -> bool:
        return self.kind == URI


# The End.access spelling of each Access, as the template branches on it.
_ACCESS = {Access.WORKFLOW_MACHINE: "here", Access.SSH: "ssh", Access.KUBECTL: "kubectl",
           Access.OBJECT_STORE: "store", Access.STAGING: "staging"}
SPOOL = ".mlc/staging"  # via-store copies kept on this machine for an ssh end, under the output folder


def script_path(transfer: Transfer) -> str:
    return f"transfers/{file_stem(transfer.id)}.sh"


def end(experiment: Experiment, site_name: str, path: str) -> End:
    scheme, sep, _ = path.partition("://")
    if sep:
        if scheme not in _SCHEMES:
            raise BackendError(f"cannot fetch {path!r}: only {', '.join(f'{s}://' for s in _SCHEMES)} are supported")
        return End(site=site_name, kind=URI, path=path, scheme=scheme, access=_ACCESS[Access.OBJECT_STORE])
    site = experiment.site(site_name)
    kind = registry.of(site)
    # A site is reached one way; the first in Access order if it ever states more.
    access = next((_ACCESS[a] for a in Access if a in kind.site_reached_by(site)), None)
    if access is None:
        raise BackendError(f"no transfer can reach site `{site_name}`: {kind.no_route_hint(site)}", site.span)
    return replace(kind.transfer_end(experiment, site, path), access=access)


def tools(source: End, target: End, route: Route, fetch: bool = False) -> list[str]:
    """What the machine running the workflow needs for this transfer."""
    if fetch:
        return ["kubectl"]  # it only applies the cluster's Job and waits
    if route.kind == "via-store":
        needed = {"kubectl"}  # a push or fetch Job (one end is a cluster)
        for e in (source, target):
            if e.access == "here" or (e.access == "ssh" and route.runs_on is None):
                needed.add("rclone")
            if e.access == "ssh":
                needed.add("ssh")
                if route.runs_on is None:
                    needed.add("rsync")  # to and from the copy kept here
        return sorted(needed)
    accesses = {source.access, target.access}
    if route.kind != "relay" and "here" not in accesses:
        return ["ssh"]  # it only asks the host that runs the copy to do it
    needed = set()
    for e in (source, target):
        if e.is_uri:
            needed.add(_SCHEMES[e.scheme])
        elif e.access == "ssh" and e.login:
            needed.add("ssh")
        elif e.access == "kubectl":
            needed.add("kubectl")
    if route.kind != "relay":  # a relay's tar runs at the two ends
        if "kubectl" in accesses:
            needed.add("tar")
        if accesses <= {"here", "ssh"}:
            needed.add("rsync")
    return sorted(needed)


def remote_tools(source: End, target: End, route: Route, fetch: bool = False) -> list[str]:
    """What the remote host that runs a direct copy needs."""
    if fetch:
        return []  # the site's transfer_image brings rclone
    if route.kind == "via-store":
        return ["rclone"] if route.runs_on is not None and "ssh" in (source.access, target.access) else []
    if route.kind == "relay" or "here" in (source.access, target.access):
        return []
    return sorted({_SCHEMES[source.scheme]} if source.is_uri else {"rsync", "ssh"})


def emit(experiment: Experiment, plan: Plan) -> dict[str, str]:
    files = {}
    for transfer in plan.transfers:
        source = end(experiment, transfer.source_site, transfer.path)
        target = end(experiment, transfer.target_site, transfer.target_path)
        if target.is_uri:
            raise BackendError(f"transfer {transfer.id}: cannot write into {transfer.target_path!r}")
        if transfer.route.kind == "relay" and source.is_uri and transfer.kind == "dir":
            raise BackendError(
                f"transfer {transfer.id}: the directory {transfer.path!r} cannot be streamed from object storage "
                f"into {transfer.target_site}: place the data set at a site that can fetch it, or keep its readers off "
                f"{transfer.target_site}", provenance(experiment, transfer))
        fetch = kubernetes.is_fetch(experiment, transfer)
        staged = {}
        if transfer.route.kind == "via-store":
            staged = via_store(experiment, transfer)
            if source.access == "staging":
                staged["push_script"] = kubernetes.push_script(experiment, plan, transfer)
            if target.access == "staging":
                staged["fetch_script"] = kubernetes.fetch_script(experiment, plan, transfer)
        elif fetch:
            staged["fetch_script"] = kubernetes.fetch_script(experiment, plan, transfer)
        files[script_path(transfer)] = script_text(
            experiment, provenance(experiment, transfer), transfer.id, transfer.what.label, transfer.kind,
            source, target, transfer.route, fetch=fetch, **staged)
    return files


def via_store(experiment: Experiment, transfer) -> dict[str, object]:
    """The template's settings of a via-store transfer: where it is staged
    (split around the run id) and rclone's flags for the bucket."""
    assert transfer.route.staging is not None
    before, after = kubernetes.staged_parts(experiment, transfer)
    return {"staged_before": before, "staged_after": after,
            "rclone_flags": kubernetes.rclone_flags(transfer.route.staging),
            "spool_path": f"{SPOOL}/{file_stem(transfer.id)}"}  # a Transfer, or a kubernetes.Shipped


def script_text(experiment: Experiment, span, id: str, what: str, kind: str, source: End, target: End,
                route: Route, *, fetch: bool = False, fetch_script: str = "", push_script: str = "",
                staged_before: str = "", staged_after: str = "", rclone_flags: list[str] | None = None,
                spool_path: str = "") -> str:
    """The script that copies `what` from `source` to `target` by `route`
    (also how code is shipped: compiler/backends/shipping.py); `fetch`: a
    Job inside the Kubernetes target copies it from object storage."""
    return render(
        "transfer.sh.j2",
        span=span,
        id=id,
        what=what,
        kind=kind,
        source=source,
        target=target,
        route=route,
        tools=tools(source, target, route, fetch),
        remote_tools=remote_tools(source, target, route, fetch),
        fetch_script=fetch_script,
        push_script=push_script,
        staged_before=staged_before,
        staged_after=staged_after,
        rclone_flags=rclone_flags or [],
        spool_path=spool_path,
        mover=k8s_data_mover(experiment.name),
        mover_root=kubernetes.WORK_MOUNT,
        kube_run_id="\n".join(RUN_ID_FUNCTION),
    )


def provenance(experiment: Experiment, transfer: Transfer):
    """The span of what is moved: the data set or the producing instance."""
    what = transfer.what
    if isinstance(what, DatasetRef):
        return next((d.span for d in experiment.datasets if d.name == what.dataset), experiment.span)
    try:
        return experiment.instance(what.instance).span
    except KeyError:
        return experiment.span
