"""What a site kind is: its capabilities (`Feature`) and the interface
(`SiteKind`) every kind implements, one subclass per kind under
compiler/sites/<kind>/.

A kind's static tables (features, site fields, pool keyword) are what the
front end and placement read; its other methods turn the IR into that
kind's files, workflow steps, config keys and transfer ends (the back end)
and read a run back (the runner). Those methods import the back end and the
runner when called, so that reading the static tables pulls in no back-end
code: data still flows one way, front end -> IR -> back end."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..ir import Experiment, Plan, ProjectPath, Service, Site

if TYPE_CHECKING:  # back-end and front-end types, for annotations only
    from ..backends.snakefile import Rule, StepBuilder
    from ..backends.transfers import End
    from ..frontend.schema import FieldSpec


class Feature(enum.Enum):
    """What a kind of site can do. Stated once per kind (`SiteKind.features`);
    the checker (fit.py), the back ends and the docs' table read them."""

    SERVICES = "hosts services"
    JOB_ARRAYS = "runs a sweep as one array job"
    MULTI_NODE = "runs a stage on several nodes at once (`nodes = N`)"
    MPI_LAUNCH = "starts MPI programs with mpirun (`launch = mpirun`)"
    PUBLISHES = "copies an output to object storage from where it is written (`publish = ...`)"
    SECRET_FROM_KUBERNETES = "reads a secret from a Kubernetes Secret"
    SECRET_FROM_ENV = "reads a secret from an environment variable"
    SECRET_FROM_FILE = "reads a secret from a file"


class Access(enum.Enum):
    """A way a host gets at one end of a transfer (compiler/sites/reach.py
    picks a transfer's route from them)."""

    OBJECT_STORE = "object storage (s3://, gs://) through its command-line client"
    SSH = "a host's file system over ssh (rsync, tar)"
    KUBECTL = "a Kubernetes work volume through `kubectl exec` into the data mover"
    STAGING = "a Kubernetes work volume through its staging bucket and a Job in the cluster"
    WORKFLOW_MACHINE = "the file system of the machine that runs the workflow"


# Which field of a `secret` block each secret feature reads, in the order
# messages name them.
SECRET_MAPPINGS = (
    ("kubernetes", Feature.SECRET_FROM_KUBERNETES),
    ("env", Feature.SECRET_FROM_ENV),
    ("file", Feature.SECRET_FROM_FILE),
)


class ServiceAddress(NamedTuple):
    """Where a consumer finds a service: a URL known when the workflow is
    compiled, or a file in the site's work tree that the service writes its
    URL to once it is ready (a Slurm job learns its node only when it starts)."""

    url: str | None = None
    published: str | None = None
    # The URL as one shell word, when part of it is known only where the
    # consumer runs (a Kubernetes run's suffix, the namespace it was applied
    # to); the kind quotes its literal parts. `url` is then None.
    shell: str | None = None


def published_address(service: Service) -> str:
    """The work-tree file a service writes its URL to once it is ready."""
    return f".mlc/services/{service.name}.url"


class SiteKind(ABC):
    """One kind of site. Subclasses set the class attributes and implement
    the abstract methods; the others have defaults most kinds keep."""

    name: str  # as written in `site NAME : KIND`, and the IR's Site.kind
    title: str  # in messages: "a service cannot run on a Slurm site"
    features: frozenset[Feature]
    pool_keyword: str | None = None  # None: the site's own fields are its one pool
    work_tree_in_output_folder: bool = False  # its workdir is relative to the output folder
    # Transfers (compiler/sites/reach.py): how other hosts get at the site's
    # work tree, what the site's own host can get at when it runs a copy, and
    # whether the site is the workflow machine itself (which reaches everything).
    reached_by: frozenset[Access] = frozenset()
    reaches: frozenset[Access] = frozenset()
    is_workflow_machine: bool = False
    # Run-time capacity (compiler/backends/capacity.py): True when a stage's
    # step itself uses the site's cpus, memory and GPUs (this machine, an
    # ssh host); False when it only waits for a scheduler that queues it.
    step_uses_host: bool = False
    # Run records (compiler/records): True when a job's usage is read from
    # the scheduler's accounting (sacct) rather than measured by the step.
    job_accounting: bool = False
    # The result cache on the site's own host (runner/step_cache.py): the
    # path of the kind's copy in the output folder, shipped once per run to
    # the work root of each of its sites that runs a stage, as
    # .mlc/step_cache.py (backends/shipping.py), where its stage scripts run
    # it. None: no cache there (or, on the workflow machine, none to ship).
    step_cache_copy: str | None = None
    # Publishing (`publish = ...`, with Feature.PUBLISHES): True when the
    # site's own files copy the output (`publish_step` gives the step), False
    # when publish/<id>.sh does on the host that holds the data.
    publishes_itself: bool = False

    def has(self, feature: Feature) -> bool:
        return feature in self.features

    def site_reached_by(self, site: Site) -> frozenset[Access]:
        """How other hosts get at this very site's work tree: a subset of
        `reached_by` that its settings choose (empty: nothing can)."""
        return self.reached_by

    def runs_cached(self, instance) -> bool:
        """With a `step_cache_copy`: whether this stage instance runs through
        the cache (a site ships the copy only when one of its stages does)."""
        return True

    def staging(self, site: Site) -> str | None:
        """The bucket prefix a site reached by `Access.STAGING` stages through."""
        return None

    def no_route_hint(self, site: Site) -> str:
        """How a site nothing reaches (site_reached_by is empty) is made reachable."""
        return "declare how the site is reached"

    def field_problems(self, values: dict[str, Any]) -> list[tuple[str, str, str, str]]:
        """Checks of a site's fields beyond their types, as (code, field,
        message, hint); the front end reports each at the field's value."""
        return []

    def secret_mappings(self) -> list[str]:
        """The fields of a `secret` block this kind can deliver from."""
        return [field for field, feature in SECRET_MAPPINGS if self.has(feature)]

    # --- front end -----------------------------------------------------
    @abstractmethod
    def site_fields(self) -> dict[str, FieldSpec]:
        """The fields a `site NAME : KIND { ... }` block accepts."""

    @abstractmethod
    def settings(self, values: dict[str, Any]) -> dict[str, Any]:
        """The IR Site's keyword arguments for the kind's settings, from the
        checked site fields."""

    def pool_fields(self) -> dict[str, FieldSpec]:
        """Fields a pool of this kind accepts besides the common ones (schema.POOL)."""
        return {}

    def pool_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        """The IR Pool's keyword arguments for the kind's own pool fields."""
        return {}

    # --- services ------------------------------------------------------
    def service_reach(self, site: Site, consumer: Site) -> str | None:
        """How a unit on `consumer` reaches a service placed on `site`, for
        the plan's reasons; None: it cannot. By default a kind that hosts
        services serves them on the host's loopback, to units on the same site."""
        if self.has(Feature.SERVICES) and consumer.name == site.name:
            return "localhost on the same host"
        return None

    def missing_exposure(self, site: Site) -> str:
        """What a site would need so that units elsewhere reach its services."""
        return f"the {self.title} site `{site.name}` serves only units on the same site"

    def service_stop_step(self, builder: StepBuilder, service: Service, site: Site) -> Rule | None:
        """The workflow step that stops a service whose lifetime is the
        experiment (builder waits it for the consumers); None: the kind
        cannot stop one from the workflow."""
        return None

    def service_address(self, experiment: Experiment, site: Site, service: Service,
                        consumer: Site) -> ServiceAddress:
        """The address a unit on `consumer` uses (service_reach said it can)."""
        return ServiceAddress(url=f"http://127.0.0.1:{service.port}")

    def consumer_env(self, site: Site) -> list[tuple[str, str]]:
        """(variable, config.yaml key of `site`) that a consumer on the
        workflow machine gets from the workflow, for the address of a
        service placed here to name run-time settings."""
        return []

    # --- back end --------------------------------------------------------
    @abstractmethod
    def site_files(self, experiment: Experiment, plan: Plan, site: Site) -> dict[str, str]:
        """The files of one site the workflow uses (units placed there or a
        transfer touching its work tree)."""

    def shared_files(self, experiment: Experiment) -> dict[str, str]:
        """Files shared by every site of the kind, emitted once when a unit
        runs on one of them."""
        return {}

    def setup_step(self, builder: StepBuilder, site: Site) -> Rule | None:
        """A workflow step that must run before anything touches the site."""
        return None

    def code_files(self, experiment: Experiment, site: Site, paths: list[ProjectPath]) -> dict[str, str]:
        """The scripts that bring project paths into the site's work tree
        (compiler/backends/shipping.py). By default, copies through the
        transfer scripts, reached as the kind's transfers reach it."""
        from ..backends import shipping

        return shipping.copy_files(experiment, site, paths)

    def code_step(self, builder: StepBuilder, site: Site, paths: list[ProjectPath]) -> list[Rule]:
        """The workflow steps that run `code_files`' scripts."""
        from ..backends import shipping

        return shipping.copy_step(builder, site, paths)

    def publish_step(self, builder: StepBuilder, site: Site, publication: Any, after: str) -> Rule | None:
        """With `publishes_itself`: the workflow step (after flag `after`)
        that runs the site's own copy of a published output to object storage
        (Kubernetes: a Job in the cluster, among `site_files`). Other kinds:
        publish/<id>.sh runs on the host that holds the data (backends/
        publishing.py), here or over ssh."""
        return None

    @abstractmethod
    def unit_step(self, builder: StepBuilder, unit: str, site: Site) -> None:
        """Adds the workflow step that runs `unit` (builder.rule_of_unit)."""

    @abstractmethod
    def config(self, experiment: Experiment, site: Site) -> dict[str, str]:
        """The site's connection settings in config.yaml (besides `kind`)."""

    @abstractmethod
    def transfer_params(self, experiment: Experiment) -> list[tuple[str, str, str]]:
        """How a transfer script learns this end: (setting, config key, join)."""

    @abstractmethod
    def transfer_end(self, experiment: Experiment, site: Site, path: str) -> End:
        """One end of a transfer on this kind of site."""

    @abstractmethod
    def service_stop_hint(self, site: Site, unit: str) -> str:
        """README: how a user stops a service placed here."""

    # --- runner ----------------------------------------------------------
    def results_folder(self, outdir: Path, config: dict) -> Path | None:
        """Where outputs land, when the user can open them on this machine."""
        return None

    def queue_waits(self, site: Site) -> dict[str, tuple[float | None, str]]:
        """`mlc plan --live`: per pool, the seconds a job would wait in the
        site's queue now (None: unknown) and what the scheduler said; empty
        when this kind cannot tell (the plan then assumes no wait)."""
        return {}

    def results_query(self, experiment: str, config: dict, paths: list[str],
                      script: str | None = None, outdir: Path | None = None,
                      site: str = "") -> list[str] | None:
        """`mlc run`: the one command that tells which of `paths` (relative to
        this site's work root) exist, built by runner/remote_results.query
        (`script`: another of its fixed scripts, e.g. the sizes the run
        records read; `outdir` and `site`: the output folder and the site's
        name, when the command runs the site's generated files); None when the runner does not ask this kind of
        site (or not with that script)."""
        return None

    def work_root_command(self, experiment: str, config: dict, argv: list[str]) -> list[str] | None:
        """`mlc clean`: the command that runs `argv` in this site's work root
        on its own host (runner/remote_results.in_work_root); None when the
        runner does not reach it that way (this machine's own work trees,
        Kubernetes)."""
        return None

    def service_state(self, experiment: Experiment, site: Site, service: Service, config: dict) -> dict:
        """`mlc status`: endpoint and state of a service placed here."""
        return {"name": service.name, "site": site.name, "endpoint": None, "state": "not probed"}

    def stop_service(self, outdir: Path, site: Site, service: Service, config: dict) -> tuple[bool, str] | None:
        """`mlc down`: stop one service; None when the site's teardown does it."""
        return None

    def tear_down(self, outdir: Path, site: Site, config: dict) -> tuple[bool, str] | None:
        """`mlc down`: remove what the experiment deployed on the site; None: nothing to do."""
        return None

    def cancel_job(self, record: dict[str, str]) -> str | None:
        """Cancel a recorded batch job (.mlc/jobs/<rule>); None: the kind records none."""
        return None

    def step_usage(self, outdir: Path, rule: str, index: int | None) -> dict | None:
        """Run records: what the site reported about a step that ran, as
        fields of compiler/records/store.Step, read from what the step's
        script saved in the output folder; None: read the step wrapper's
        measurement (.mlc/usage/<rule>.json) instead. `index`: the member's
        index when the rule ran a whole sweep at once."""
        return None
