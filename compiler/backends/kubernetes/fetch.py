"""Transfers the cluster runs itself, as Jobs inside it with rclone from the
site's `transfer_image`:

- a **fetch** Job copies into the site's work volume: a data set in object
  storage (s3://, gs://) that the site's units read, or what another site
  staged in the site's bucket (a `via-store` route, compiler/sites/reach.py);
- a **push** Job copies a stage's output from the work volume out to the
  site's staging bucket, where the other end downloads it;
- a **publish** Job copies an output with `publish = "s3://..."` from the
  work volume to that URI (compiler/backends/publishing.py).

`fetch-<transfer>.sh` / `push-<transfer>.sh` / `publish-<unit>.<output>.sh`
apply the Job and wait. The bytes go between the bucket and the volume,
never through the API server; rclone skips files already copied whole, so a
retried or re-run transfer resumes where it stopped. Credentials come from the pod's identity
(`service_account`, e.g. IRSA or GKE workload identity) or the node's."""

from __future__ import annotations

from dataclasses import dataclass

from compiler.backends.kubernetes import labels, pods
from compiler.backends.kubernetes.tool_jobs import tool_job
from compiler.backends.naming import K8S_NAME_MAX, dns1123, file_stem
from compiler.ir import Experiment, Plan, ProjectPath, Route, Site, Span, Transfer
from compiler.lazy import lazy_module
from compiler.sites import reach

# The client (~0.2 s to import) only when a Kubernetes site is compiled.
client = lazy_module("kubernetes.client")

# rclone's on-the-fly remotes: no config file, credentials from the
# environment (the pod's service account or the node's role). The bucket
# exists: rclone neither checks nor creates it (a role with object rights
# only may do neither).
_REMOTES = {"s3": (":s3:", ["--s3-provider=AWS", "--s3-env-auth", "--s3-no-check-bucket"]),
            "gs": (":gcs:", ["--gcs-env-auth"])}
# Transient failures are retried inside the pod; the Job's backoff then
# starts a new pod, which skips what is already there.
_RCLONE_FLAGS = ["--retries=5", "--low-level-retries=20", "--stats=60s", "--stats-one-line"]
FETCH_BACKOFF = 3


@dataclass(frozen=True)
class Shipped:
    """A project path copied into a staging cluster (compiler/backends/
    shipping.py): uploaded from the workflow machine, then fetched. Has what
    a Job reads of a Transfer."""

    id: str  # its place in the staging bucket: ship/<folder>
    path: str
    target_path: str
    kind: str
    route: Route
    span: Span
    # Names its fetch script when it is not a project path; `_`: file_stem
    # never starts a name with it, so no project path's script has this name.
    stem: str = ""


@dataclass(frozen=True)
class Published:
    """An output copied from the work volume to its `publish` URI. Has what
    a Job reads of a Transfer."""

    id: str  # <unit>.<output>, as publishing.Publication names it
    path: str  # in the work volume
    uri: str
    kind: str
    span: Span


@dataclass(frozen=True)
class Fetch:
    """An in-cluster copy: `verb` "fetch" (into the work volume), "push"
    (out of it, to the staging bucket) or "publish" (out of it, to an
    output's URI)."""

    transfer: Transfer | Shipped | Published
    name: str  # the Job's name (before the run suffix)
    verb: str = "fetch"

    @property
    def script(self) -> str:
        if isinstance(self.transfer, Shipped):
            return f"fetch-ship-{self.transfer.stem or file_stem(self.transfer.path)}.sh"
        return f"{self.verb}-{file_stem(self.transfer.id)}.sh"

    @property
    def manifest(self) -> str:
        return f"{self.name}-job.yaml"


def is_fetch(experiment: Experiment, transfer: Transfer) -> bool:
    """A transfer from object storage that the Kubernetes target runs."""
    target = experiment.site(transfer.target_site)
    return (
        target.kind == "kubernetes"
        and "://" in transfer.path
        and transfer.route.kind == "direct-pull"
        and transfer.route.runs_on == target.name
    )


def staged_in(experiment: Experiment, transfer: Transfer, end: str) -> bool:
    """A via-store transfer whose `end` ("source" or "target") is a cluster
    reached through its bucket, so a Job there copies it."""
    site = experiment.site(transfer.source_site if end == "source" else transfer.target_site)
    return transfer.route.kind == "via-store" and reach.staged(site)


def fetch_of(experiment: Experiment, transfer: Transfer) -> Fetch:
    """The Job that copies `transfer` into its target cluster."""
    return Fetch(transfer, dns1123(f"{experiment.name}-fetch-{transfer.id}", K8S_NAME_MAX))


def push_of(experiment: Experiment, transfer: Transfer) -> Fetch:
    """The Job that copies `transfer` out of its source cluster to the bucket."""
    return Fetch(transfer, dns1123(f"{experiment.name}-push-{transfer.id}", K8S_NAME_MAX), "push")


def site_fetches(experiment: Experiment, plan: Plan, site_name: str) -> list[Fetch]:
    return [
        fetch_of(experiment, transfer)
        for transfer in plan.transfers
        if transfer.target_site == site_name
        and (is_fetch(experiment, transfer) or staged_in(experiment, transfer, "target"))
    ]


def shipped(site: Site, path: ProjectPath, source: str) -> Shipped:
    """How project path `path` reaches staging cluster `site` (from `source`,
    the workflow machine's project): staged under ship/, as in the project."""
    folder = path.path.rstrip("/") if path.kind == "dir" else path.path.rstrip("/").rpartition("/")[0]
    route = Route(kind="via-store", runs_on=source, staging=reach.staging_of(site))
    return Shipped(id=f"ship/{folder}".rstrip("/"), path=path.path, target_path=path.path, kind=path.kind,
                   route=route, span=path.span)


def site_ships(experiment: Experiment, plan: Plan, site_name: str) -> list[Fetch]:
    """Fetch Jobs of the project paths shipped to a staging cluster, and of
    the result cache's copy when a stage runs there."""
    from compiler.backends import shipping  # it reaches back into this package through the transfers

    site = experiment.site(site_name)
    if not reach.staged(site):
        return []
    fetches = [ship_fetch(experiment, site, path, shipping.PROJECT)
               for path in shipping.needs(experiment, plan).get(site_name, [])]
    if site in shipping.caching_sites(experiment, plan):
        fetches.append(cache_fetch(experiment, site, shipping.cache_copy(site), shipping.CACHE_SOURCE))
    return fetches


def shipped_cache(site: Site, copy: str, source: str) -> Shipped:
    """The output folder's copy of the result cache (`copy`, from `source`)
    on its way to `.mlc/step_cache.py` in the work volume, staged under
    ship/.mlc/ (no project path is shipped from the output folder)."""
    from compiler.runner.step_cache import STEP_CACHE_HERE

    route = Route(kind="via-store", runs_on=source, staging=reach.staging_of(site))
    return Shipped(id="ship/.mlc", path=copy, target_path=STEP_CACHE_HERE, kind="file", route=route, span=site.span,
                   stem="_step_cache")


def cache_fetch(experiment: Experiment, site: Site, copy: str, source: str) -> Fetch:
    return Fetch(shipped_cache(site, copy, source), dns1123(f"{experiment.name}-ship-step-cache", K8S_NAME_MAX))


def ship_fetch(experiment: Experiment, site: Site, path: ProjectPath, source: str) -> Fetch:
    return Fetch(shipped(site, path, source), dns1123(f"{experiment.name}-ship-{path.path}", K8S_NAME_MAX))


def site_pushes(experiment: Experiment, plan: Plan, site_name: str) -> list[Fetch]:
    return [
        push_of(experiment, transfer)
        for transfer in plan.transfers
        if transfer.source_site == site_name and staged_in(experiment, transfer, "source")
    ]


def site_publishes(experiment: Experiment, plan: Plan, site_name: str) -> list[Fetch]:
    from compiler.backends import publishing  # it asks the site kinds, which reach back into this package

    return [publish_of(experiment, pub) for pub in publishing.of_site(experiment, plan, site_name)]


def publish_of(experiment: Experiment, pub) -> Fetch:
    """The Job that copies one published output (publishing.Publication) to its URI."""
    return Fetch(Published(pub.id, pub.output.path, pub.output.publish or "", pub.output.kind, pub.output.span),
                 dns1123(f"{experiment.name}-publish-{pub.id}", K8S_NAME_MAX), "publish")


def remote(url: str) -> tuple[str, list[str]]:
    """rclone's spelling of an s3:// or gs:// location, and the flags that
    make it read credentials from the environment."""
    scheme, _, rest = url.partition("://")
    prefix, flags = _REMOTES[scheme]
    return f"{prefix}{rest}", flags


def rclone_flags(url: str) -> list[str]:
    return [*remote(url)[1], *_RCLONE_FLAGS]


def staged_parts(experiment: Experiment, transfer: Transfer | Shipped) -> tuple[str, str]:
    """Where a via-store transfer is staged, as rclone names it, split around
    the run id (known only at run time): `<staging>/<experiment>/` and
    `/<transfer id>`, plus `/<file name>` for a file."""
    assert transfer.route.staging is not None
    bucket, _ = remote(transfer.route.staging)
    after = f"/{transfer.id}"
    if transfer.kind != "dir":
        after += "/" + transfer.path.rstrip("/").rsplit("/", 1)[-1]
    return f"{bucket.rstrip('/')}/{experiment.name}/", after


def rclone_command(transfer: Transfer | Shipped | Published, experiment: Experiment | None = None,
                   verb: str = "fetch") -> list[str]:
    """The Job's rclone command line; `experiment` is needed for a via-store
    transfer (its staged location names the experiment)."""
    verb_name = "copy" if transfer.kind == "dir" else "copyto"  # copyto: a file to that very name
    if isinstance(transfer, Published):  # like `aws s3 sync` (a folder's content) / `aws s3 cp`
        target, flags = remote(transfer.uri)
        return ["rclone", verb_name, pods.command_literal(f"{pods.WORK_MOUNT}/{transfer.path}"), pods.command_literal(target), *flags,
                *_RCLONE_FLAGS]
    if transfer.route.kind == "via-store":
        assert experiment is not None
        before, after = staged_parts(experiment, transfer)
        staged = f"{pods.command_literal(before)}$({pods.RUN_ENV}){pods.command_literal(after)}"
        flags = rclone_flags(transfer.route.staging or "")
        if verb == "push":
            return ["rclone", verb_name, pods.command_literal(f"{pods.WORK_MOUNT}/{transfer.path}"), staged, *flags]
        return ["rclone", verb_name, staged, pods.command_literal(f"{pods.WORK_MOUNT}/{transfer.target_path}"), *flags]
    source, flags = remote(transfer.path)
    target = f"{pods.WORK_MOUNT}/{transfer.target_path}"
    return ["rclone", verb_name, pods.command_literal(source), pods.command_literal(target), *flags, *_RCLONE_FLAGS]


def fetch_job(experiment: Experiment, site: Site, claim: str, fetch: Fetch) -> client.V1Job:
    object_labels = labels.object_labels(experiment.name, name=fetch.verb, instance=fetch.name, component="transfer")
    # No shell: rclone is PID 1 and gets SIGTERM; the kubelet puts the run
    # id into a staged location.
    return tool_job(experiment, site, claim, name=fetch.name, object_labels=object_labels,
                    command=rclone_command(fetch.transfer, experiment, fetch.verb),
                    requests={"cpu": "500m", "memory": "256Mi"}, limits={"cpu": "2", "memory": "1Gi"},
                    backoff_limit=FETCH_BACKOFF)
