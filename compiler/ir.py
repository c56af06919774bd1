"""The typed intermediate representation: the only contract between the front
end and everything after it (placement, back ends, the runner, the editors).

Everything here is frozen and validated. Quantities are normalised to base
units so that nobody downstream parses units again:

    sizes      -> bytes (int)
    durations  -> seconds (float)
    bandwidth  -> bytes per second (float)
    price      -> money per hour (float), egress -> money per GB (float)

Every user-visible object carries the source position it came from, so a
generated file can say where it came from and a placement error can point at
the line that caused it.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union, get_origin

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from .span import Span

IR_VERSION = "1"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, /, **data) -> None:
        super().__init__(**data)
        # Pydantic gives every instance its own set of the fields it was
        # given: 216-728 bytes, most of a small model's size, millions of
        # them on large experiments. Instances given the same fields share
        # one set instead. Nothing changes it in place: the models are
        # frozen, and model_copy copies it before adding to it.
        given = self.__pydantic_fields_set__
        key = frozenset(given)
        shared = _FIELD_SETS.get(key)
        if shared is None:
            shared = _FIELD_SETS[key] = given
        object.__setattr__(self, "__pydantic_fields_set__", shared)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # Model.trusted(**fields): an instance of values the front end has
        # already checked, made without pydantic's validation (most of the
        # cost of making one, and it would convert nothing here). Every
        # value must already be of its field's type as validation would
        # leave it (an int for an int field, a float for a float, a model
        # instance for a model). The fields are set one by one in the
        # model's order, so that the instances of a class share one table
        # of keys (a `__dict__` of six fields: 80 bytes instead of 272).
        # Every field counts as given (`model_fields_set`).
        cls.trusted = staticmethod(_trusted_maker(cls))


_FIELD_SETS: dict[frozenset[str], set[str]] = {}
_new = object.__new__
_set = object.__setattr__
_FACTORY = object()  # a default made by the field's default_factory


def _refuse(self, *_args, **_kwargs):
    raise TypeError("the IR is frozen: this empty list or map is shared by many models")


class _NoItems(list):
    """The empty list that trusted models share (`after`, `on`, `shapes`,
    ...: most units' are empty, and each empty list costs 56 bytes). It
    equals [] and dumps as [], and refuses to grow, so that no model can
    change the others' through it."""

    __slots__ = ()
    append = extend = insert = __setitem__ = __iadd__ = _refuse


class _NoEntries(dict):
    """The empty map that trusted models share (`env`, `sweep`), as _NoItems."""

    __slots__ = ()
    __setitem__ = update = setdefault = __ior__ = _refuse


NO_ITEMS = _NoItems()
NO_ENTRIES = _NoEntries()


def _container(annotation) -> type | None:
    """list or dict, for a field of that type (not Optional: None stays None)."""
    origin = get_origin(annotation) or annotation
    return origin if origin in (list, dict) else None


def _trusted_maker(cls: type[BaseModel]):
    """A function taking the model's fields as keyword arguments (required
    ones without a default) that sets them in order: what dataclasses do
    for __init__, and faster than a loop over the fields."""
    env = {"cls": cls, "_new": _new, "_set": _set, "_FACTORY": _FACTORY,
           "_all": set(cls.model_fields), "NO_ITEMS": NO_ITEMS, "NO_ENTRIES": NO_ENTRIES}
    params, body = [], []
    for i, (name, f) in enumerate(cls.model_fields.items()):
        container = _container(f.annotation)
        if f.is_required():
            params.append(name)
        elif container is not None and f.default_factory in (list, dict):
            params.append(f"{name}={'NO_ITEMS' if container is list else 'NO_ENTRIES'}")
        elif f.default_factory is not None:
            env[f"_factory{i}"] = f.default_factory
            params.append(f"{name}=_FACTORY")
            body.append(f"    if {name} is _FACTORY: {name} = _factory{i}()")
        else:
            env[f"_default{i}"] = f.default
            params.append(f"{name}=_default{i}")
        if container is list:
            body.append(f"    if {name}.__class__ is list and not {name}: {name} = NO_ITEMS")
        elif container is dict:
            body.append(f"    if {name}.__class__ is dict and not {name}: {name} = NO_ENTRIES")
        body.append(f"    _set(self, {name!r}, {name})")
    source = (f"def make(*, {', '.join(params)}):\n    self = _new(cls)\n" + "\n".join(body) +
              "\n    _set(self, '__pydantic_fields_set__', _all)"
              "\n    _set(self, '__pydantic_extra__', None)"
              "\n    _set(self, '__pydantic_private__', None)\n    return self\n")
    exec(source, env)  # noqa: S102 (names are the model's own fields)
    return env["make"]


def _cached_index(model: BaseModel, name: str, sources: tuple[list, ...], build) -> dict:
    """An index over some of a frozen model's lists, kept beside its fields
    (pydantic ignores non-field entries of __dict__) and rebuilt when any of
    those lists is not the one it was built from: `model_copy(update=...)`
    shares the cache but brings new lists."""
    cache = model.__dict__.setdefault("_lookups", {})
    entry = cache.get(name)
    if entry is None or any(a is not b for a, b in zip(entry[0], sources, strict=True)):
        entry = (sources, build())
        cache[name] = entry
    return entry[1]


class Gpus(_Frozen):
    count: int
    type: str | None = None  # None: any GPU model


class PodOptions(_Frozen):
    """Kubernetes pod settings a platform team sets on a site and overrides
    per pool (compiler/backends/kubernetes/extensions.py merges them)."""

    service_account: str | None = None
    priority_class: str | None = None
    runtime_class: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Pool(_Frozen):
    """A Slurm partition, a Kubernetes node pool, or the one pool of a local site."""

    name: str
    site: str
    nodes: int
    cpus: int  # per node
    memory: int  # bytes per node
    gpus: Gpus | None = None  # per node
    max_time: float | None = None  # seconds; None: unlimited
    price: float = 0.0  # money per node-hour
    speed: float = 1.0  # relative to the reference machine, for scaling estimates
    selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[str] = Field(default_factory=list)  # "key=value:Effect" or "key:Effect"
    pod: PodOptions = Field(default_factory=PodOptions)  # Kubernetes pools only
    span: Span

    @property
    def id(self) -> str:
        return f"{self.site}.{self.name}"


class SlurmSettings(_Frozen):
    login: str | None = None  # None: sbatch runs on the machine that runs the workflow
    account: str | None = None
    qos: str | None = None
    modules: list[str] = Field(default_factory=list)
    scratch: str = "mlc-work"  # work tree root on the cluster (relative: to $HOME)
    gpu_directive: Literal["gres", "gpus"] = "gres"
    container: Literal["apptainer", "singularity"] = "apptainer"


class KubernetesSettings(_Frozen):
    context: str | None = None
    namespace: str = "default"
    volume: str | None = None  # a ReadWriteMany PersistentVolumeClaim holding the work tree
    image_pull_secrets: list[str] = Field(default_factory=list)
    default_image: str = "docker.io/library/python:3.11-slim"
    # docs/kubernetes.md "Production clusters": issue 15's extension points.
    pod_security: Literal["restricted", "baseline"] = "restricted"
    own_namespace: bool = False  # mlc creates (never deletes) the namespace
    storage_class: str | None = None  # of the work volume mlc creates
    access_mode: Literal["ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"] = "ReadWriteMany"
    transfer_image: str = "docker.io/rclone/rclone:1.68"  # in-cluster transfer Jobs
    # Where data into and out of the cluster is staged (s3:// or gs://): the
    # other end uploads there and a Job copies it in, or a Job copies it out
    # and the other end downloads (compiler/sites/reach.py, "via-store").
    staging: str | None = None
    # "exec": transfers stream through `kubectl exec` into a data mover
    # instead (needs pods/exec; the API server carries the bytes).
    data_path: Literal["staging", "exec"] = "staging"
    pod: PodOptions = Field(default_factory=PodOptions)
    # A host name whose subdomains an ingress controller routes to the site's
    # Services (`<service object>.<expose>`): how units elsewhere reach them.
    expose: str | None = None


class LocalSettings(_Frozen):
    workdir: str = "work"  # relative to the generated folder


class SshSettings(_Frozen):
    host: str  # what `ssh` takes: an alias of the ssh config, or [user@]hostname
    workdir: str = "mlc-work"  # work tree root on the host (relative: to the login directory)
    ssh_config: str | None = None  # an ssh config file read instead of ~/.ssh/config


class Site(_Frozen):
    name: str
    kind: Literal["slurm", "kubernetes", "local", "ssh"]
    pools: list[Pool]
    slurm: SlurmSettings | None = None
    kubernetes: KubernetesSettings | None = None
    local: LocalSettings | None = None
    ssh: SshSettings | None = None
    implicit: bool = False  # the embedded local site added when none is declared
    span: Span


class Link(_Frozen):
    """A network path between two sites; `symmetric` links work both ways."""

    source: str
    target: str
    symmetric: bool = True
    bandwidth: float  # bytes per second
    latency: float = 0.0  # seconds
    egress: float = 0.0  # money per GB leaving `source` (and `target` when symmetric)
    span: Span


class Dataset(_Frozen):
    name: str
    uri: str  # a path on the site, or an object-store URI (s3://, gs://)
    size: int = 0  # bytes
    site: str
    span: Span


class Secret(_Frozen):
    """A secret is referenced, never read: back ends emit a reference to it."""

    name: str
    kubernetes: tuple[str, str] | None = None  # (Secret name, key)
    env: str | None = None  # an environment variable on the Slurm/local host
    file: str | None = None  # a file on the Slurm/local host
    span: Span


class LiteralEnv(_Frozen):
    kind: Literal["literal"] = "literal"
    value: str


class SecretEnv(_Frozen):
    kind: Literal["secret"] = "secret"
    secret: str


EnvValue = Union[LiteralEnv, SecretEnv]


class Text(_Frozen):
    """Literal shell text of a command (user-written; inserted verbatim)."""

    kind: Literal["text"] = "text"
    text: str


class PortRef(_Frozen):
    """`${in.x}` or `${out.x}`: the path(s) at the site, passed like a Value."""

    kind: Literal["port"] = "port"
    direction: Literal["in", "out"]
    name: str


class Value(_Frozen):
    """`${name}` in `run`: the value of a param, sweep variable or template
    parameter (its text). Never pasted into the shell text: the back ends hand
    it to the command as an environment variable (docs/codegen.md)."""

    kind: Literal["value"] = "value"
    name: str
    value: str
    span: Span | None = None  # the `${name}`, for diagnostics


CommandPart = Union[Text, PortRef, Value]


class Output(_Frozen):
    name: str
    path: str  # relative to the work tree of the site that runs the producer
    kind: Literal["file", "dir"] = "file"
    size: int = 0  # bytes
    publish: str | None = None  # an object-store URI the output is copied to once written
    span: Span


class ProjectPath(_Frozen):
    """A file or folder of the user's project (relative to the main .mlx
    file's folder) that stages need on the site that runs them: an entry of
    the experiment's `code` list, or a `file()`/`dir()` input."""

    path: str
    kind: Literal["file", "dir"] = "file"
    span: Span


class Input(_Frozen):
    """An input port. It binds to a data set, to outputs of other instances,
    or to a file that already exists in the user's project (`source`)."""

    name: str
    dataset: str | None = None
    # (instance id, output name) pairs; several when the producer is a sweep
    outputs: list[tuple[str, str]] = Field(default_factory=list)
    source: Output | None = None  # a project file or directory, read on the local side
    # `in api = detector`: a service; `${in.api}` is its base URL as reachable
    # from the consumer's site, and the consumer waits until it is ready.
    service: str | None = None
    span: Span


class Resources(_Frozen):
    """cpus, memory and gpus are per node; `nodes` whole nodes are held
    together (a gang) for the whole run."""

    cpus: int = 1
    memory: int = 2 * 1024**3
    gpus: Gpus | None = None
    time: float = 3600.0  # the wall-time limit asked for, seconds
    nodes: int = 1


class Estimate(_Frozen):
    """Expected run time. `by_key` maps a GPU type, a pool id (site.pool) or a
    site name to seconds; `default` is scaled by pool speed when no key fits.
    `stated` is False when the user gave nothing and a documented default is used."""

    default: float
    by_key: dict[str, float] = Field(default_factory=dict)
    stated: bool = True


# --- software environment and scheduler options of a stage (issue 12.3-4) ---

class CondaEnv(_Frozen):
    """`conda = "name"` (an existing environment) or `conda = "envs/x.yml"`:
    a file whose text is carried here, created once per site into a cache
    keyed by `digest` (sha256 of the text, hex)."""

    name: str | None = None
    file: str | None = None  # the path as written, for comments and messages
    spec: str | None = None  # the file's text
    digest: str | None = None


class Software(_Frozen):
    """What a stage's job loads before its command on a host site (Slurm,
    ssh, local). Kubernetes ignores all but `setup`: the image is the environment."""

    modules: list[str] = Field(default_factory=list)  # loaded after the site's
    site_modules: bool = True  # False: the site's `modules` are not loaded
    conda: CondaEnv | None = None
    venv: str | None = None  # an existing virtual environment's directory
    setup: str | None = None  # shell lines run before the command, in its shell


class SlurmSignal(_Frozen):
    name: str  # USR1, without SIG
    before: int  # seconds before the time limit


class SlurmOptions(_Frozen):
    """Scheduler options a stage asks of Slurm; other kinds ignore them."""

    constraint: str | None = None
    exclusive: bool = False
    reservation: str | None = None
    requeue: bool | None = None  # None: the cluster's default
    signal: SlurmSignal | None = None
    extra: list[tuple[str, str | None]] = Field(default_factory=list)  # `sbatch = [...]`: (option, value)


class Launch(_Frozen):
    """How the command starts on a stage's nodes (docs/language.md, "Multi-node
    stages"). Without one the command runs once, on the first node."""

    kind: Literal["torchrun", "srun", "mpirun"]
    tasks_per_node: int = 1  # srun and mpirun; torchrun starts one process per GPU


class Shape(_Frozen):
    """One alternative way to run a stage: its own resources and estimate,
    on the sites or pools it names (empty: wherever the stage may run).
    Placement picks one per instance (Assignment.shape)."""

    resources: Resources
    estimate: Estimate
    on: list[str] = Field(default_factory=list)
    span: Span


class StageInstance(_Frozen):
    """One runnable unit: a stage, or one member of a stage's sweep."""

    id: str  # "train[lr=0.01]" for sweep members, "prepare" otherwise
    stage: str  # the stage it came from
    index: int = 0  # position within the sweep (array index)
    sweep: dict[str, str | int | float | bool] = Field(default_factory=dict)
    image: str | None = None
    command: list[CommandPart]
    resources: Resources
    estimate: Estimate
    retries: int = 0
    env: dict[str, EnvValue] = Field(default_factory=dict)
    inputs: list[Input] = Field(default_factory=list)
    outputs: list[Output] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)  # instance ids, explicit ordering only
    on: list[str] = Field(default_factory=list)  # allowed sites or pools; empty: anywhere
    not_on: list[str] = Field(default_factory=list)
    template: str | None = None
    software: Software = Field(default_factory=Software)
    slurm: SlurmOptions = Field(default_factory=SlurmOptions)
    launch: Launch | None = None
    # Alternatives to `resources`/`estimate`, in the order the user prefers
    # them; empty: the stage has one shape, its own fields.
    shapes: list[Shape] = Field(default_factory=list)
    span: Span


class StageGroup(_Frozen):
    """A stage as written: its instances (one, or one per sweep member)."""

    name: str
    instances: list[str]
    sweep_axes: list[str] = Field(default_factory=list)
    span: Span


class Service(_Frozen):
    name: str
    image: str | None = None
    command: list[CommandPart] = Field(default_factory=list)
    resources: Resources
    replicas: int = 1
    port: int
    # The readiness check: an HTTP path ("/healthz", answered 2xx or 3xx), or
    # "tcp" (the port accepts a connection: gRPC, a database); None: as "tcp".
    health: str | None = None
    # `experiment`: stopped once its last consumer has finished (the default
    # when something consumes it); `persistent`: left running (otherwise).
    lifetime: Literal["experiment", "persistent"] = "persistent"
    consumers: list[str] = Field(default_factory=list)  # units with an input bound to it, sorted
    env: dict[str, EnvValue] = Field(default_factory=dict)
    inputs: list[Input] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)
    on: list[str] = Field(default_factory=list)
    not_on: list[str] = Field(default_factory=list)
    template: str | None = None
    span: Span

    @property
    def http_health(self) -> str | None:
        """The path the readiness check asks over HTTP; None when it only
        connects to the port."""
        return self.health if self.health is not None and self.health.startswith("/") else None


class Edge(_Frozen):
    """Data (or just order) flowing from one unit to another."""

    source: str  # instance id (or data set name when source_kind is dataset)
    target: str  # instance id or service name
    source_kind: Literal["instance", "dataset"] = "instance"
    output: str | None = None  # the producer's output name; None for `after`
    input: str | None = None  # the consumer's input name
    size: int = 0  # bytes carried


class Objective(_Frozen):
    kind: Literal["makespan", "cost", "weighted"] = "makespan"
    time_weight: float = 1.0  # per hour of makespan, for "weighted"
    cost_weight: float = 0.0  # per unit of money, for "weighted"
    deadline: float | None = None  # seconds
    budget: float | None = None  # money
    span: Span | None = None  # the objective as written (or the experiment)
    deadline_span: Span | None = None  # where the deadline was set, for errors about it
    budget_span: Span | None = None


class Experiment(_Frozen):
    ir_version: str = IR_VERSION
    name: str
    description: str = ""
    source: str  # the main .mlx file, as given on the command line
    sources: list[str]  # every file read, main first
    objective: Objective
    params: dict[str, str | int | float | bool | list] = Field(default_factory=dict)
    sites: list[Site]
    links: list[Link] = Field(default_factory=list)
    datasets: list[Dataset] = Field(default_factory=list)
    secrets: list[Secret] = Field(default_factory=list)
    stages: list[StageGroup] = Field(default_factory=list)
    instances: list[StageInstance] = Field(default_factory=list)  # topological order
    services: list[Service] = Field(default_factory=list)
    code: list[ProjectPath] = Field(default_factory=list)  # shipped to every site that runs a unit
    span: Span

    @model_validator(mode="before")
    @classmethod
    def _derived_edges_are_not_input(cls, data):
        """A dumped IR holds `edges` (below); they are derived from the
        units, so reading one back takes the units' word for them."""
        if isinstance(data, dict) and "edges" in data:
            data = {key: value for key, value in data.items() if key != "edges"}
        return data

    # Derived from the units on first use, not stored: they already say it
    # all, nothing between the passes reads them, and a stored copy was
    # 861,136 models at SoyKB's 20,000 tasks, kept alive to the end of a
    # compile. Dumped with the IR all the same.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def edges(self) -> list[Edge]:
        """Every dependency of a unit on a data set, a service, another
        unit's output or (`after`) another unit, as its inputs and `after`
        name them: by target, then input, source and output."""
        return _cached_index(self, "edges", (self.instances, self.services, self.datasets),
                             lambda: _edges_of(self))

    # Lookups by name. Back ends ask for thousands of units, and a scan each
    # time is quadratic, so each index is built once (see _cached_index).
    @property
    def _sites_by_name(self) -> dict[str, Site]:
        return _cached_index(self, "sites", (self.sites,), lambda: {s.name: s for s in self.sites})

    @property
    def _pools_by_id(self) -> dict[str, Pool]:
        return _cached_index(self, "pools", (self.sites,),
                           lambda: {p.id: p for site in self.sites for p in site.pools})

    @property
    def _units_by_name(self) -> dict[str, "StageInstance | Service"]:
        def build() -> dict:
            units: dict[str, StageInstance | Service] = {i.id: i for i in self.instances}
            units.update((s.name, s) for s in self.services)
            return units

        return _cached_index(self, "units", (self.instances, self.services), build)

    def site(self, name: str) -> Site:
        return self._sites_by_name[name]

    def pool(self, pool_id: str) -> Pool:
        return self._pools_by_id[pool_id]

    def instance(self, instance_id: str) -> StageInstance:
        unit = self._units_by_name.get(instance_id)
        if not isinstance(unit, StageInstance):
            raise KeyError(instance_id)
        return unit

    def unit(self, name: str) -> "StageInstance | Service":
        """A stage instance or a service, by its id or name."""
        return self._units_by_name[name]


def _edges_of(experiment: Experiment) -> list[Edge]:
    """`Experiment.edges`: for each unit, by its id, an edge from each data
    set, service and producer's output its inputs name, and from each unit
    in its `after`; sorted by input, source and output."""
    dataset_size = {d.name: d.size for d in experiment.datasets}
    output_size = {(i.id, o.name): o.size for i in experiment.instances for o in i.outputs}
    units = [(i.id, i) for i in experiment.instances] + [(s.name, s) for s in experiment.services]
    units.sort(key=lambda pair: pair[0])
    make = Edge.trusted
    edges: list[Edge] = []
    for target, unit in units:
        into = []
        for inp in unit.inputs:
            if inp.dataset is not None:
                into.append(make(source=inp.dataset, target=target, source_kind="dataset", input=inp.name,
                                 size=dataset_size[inp.dataset]))
            if inp.service is not None:
                into.append(make(source=inp.service, target=target, input=inp.name))
            for producer, output in inp.outputs:
                into.append(make(source=producer, target=target, output=output, input=inp.name,
                                 size=output_size[(producer, output)]))
        for before in unit.after:
            into.append(make(source=before, target=target))
        into.sort(key=_edge_order)
        edges += into
    return edges


def _edge_order(edge: Edge) -> tuple[str, str, str]:
    """Among the edges into one unit."""
    return edge.input or "", edge.source, edge.output or ""


# ---------------------------------------------------------------------------
# The Plan: what placement decides. Back ends read the Experiment and the Plan.


class Assignment(_Frozen):
    unit: str  # a stage instance id or a service name
    kind: Literal["instance", "service"] = "instance"
    site: str
    pool: str  # pool name within the site
    start: float  # seconds from the start of the experiment
    finish: float
    cost: float = 0.0
    reason: str = ""
    shape: int | None = None  # the index into the instance's `shapes` placement chose


class DatasetRef(_Frozen):
    """A declared data set, by name."""

    kind: Literal["dataset"] = "dataset"
    dataset: str

    @property
    def label(self) -> str:
        return f"dataset {self.dataset}"


class OutputRef(_Frozen):
    """One output of one stage instance (a sweep member's id may hold any
    character, so the two parts are never joined into one string to split)."""

    kind: Literal["output"] = "output"
    instance: str
    output: str

    @property
    def label(self) -> str:
        return f"{self.instance}.{self.output}"


# What a transfer moves. Typed, so that no name (a stage called `dataset`, an
# id with ':') can be mistaken for the other kind.
DataRef = Annotated[Union[DatasetRef, OutputRef], Field(discriminator="kind")]


class Route(_Frozen):
    """How a transfer goes (compiler/sites/reach.py chooses, placement prices
    it, the transfer script does exactly this). `runs_on` is the site whose
    host runs the copy: the target for a pull, the source for a push, None
    for a relay (the workflow machine streams from one end into the other).

    `via-store`: through the staging bucket of a Kubernetes end (`staging`):
    the source uploads (or a Job in its cluster pushes) to
    `<staging>/<experiment>/<run>/<transfer id>`, then the target downloads
    (or a Job in its cluster fetches). `runs_on` is then the end outside a
    cluster whose own host runs the upload or download; None when the
    workflow machine does it for that end (an ssh host, which reaches no
    object storage) or when both ends are clusters."""

    kind: Literal["direct-pull", "direct-push", "relay", "via-store"]
    runs_on: str | None = None
    staging: str | None = None  # via-store: the bucket prefix (s3://, gs://)


class Transfer(_Frozen):
    """Data that must move between sites before its consumer can start, by
    `route`. The tool that moves it follows from the two ends
    (compiler/backends/transfers.py)."""

    id: str  # stable name, used for the Snakemake rule
    source_site: str
    target_site: str
    what: DataRef
    path: str  # the path at the source (relative to its work tree, or a URI)
    target_path: str  # the path at the target (relative to its work tree)
    route: Route
    size: int = 0
    kind: Literal["file", "dir"] = "file"
    consumers: list[str] = Field(default_factory=list)
    start: float = 0.0
    finish: float = 0.0
    cost: float = 0.0


class Plan(_Frozen):
    objective: Objective
    assignments: list[Assignment]  # in topological, then name, order
    transfers: list[Transfer] = Field(default_factory=list)
    makespan: float = 0.0
    cost: float = 0.0
    egress_bytes: int = 0
    lower_bound: float = 0.0
    algorithm: str = ""
    notes: list[str] = Field(default_factory=list)

    def where(self, unit: str) -> Assignment:
        index = _cached_index(self, "where", (self.assignments,),
                              lambda: {a.unit: a for a in self.assignments})
        return index[unit]

    def transfer_to(self, site: str, what: DataRef) -> Transfer | None:
        """The transfer that brings `what` to `site`, if the plan moves it."""
        index = _cached_index(self, "transfer_to", (self.transfers,),
                              lambda: {(t.target_site, t.what): t for t in self.transfers})
        return index.get((site, what))
