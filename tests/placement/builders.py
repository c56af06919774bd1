"""Small constructors for IR objects, so placement tests do not depend on the
front end. Every object gets a span pointing at a fake file."""

from __future__ import annotations

from compiler.ir import (
    Dataset,
    Estimate,
    KubernetesSettings,
    Experiment,
    Gpus,
    Input,
    Link,
    Objective,
    Output,
    Pool,
    Resources,
    Secret,
    SecretEnv,
    Service,
    Site,
    Span,
    StageInstance,
    Text,
)

GiB = 1024**3
FILE = "test.mlx"


def span(line: int = 1) -> Span:
    return Span(file=FILE, line=line, column=1, end_line=line, end_column=10)


def pool(name: str, site: str, nodes: int = 1, cpus: int = 8, memory: int = 32 * GiB, gpus: tuple[int, str | None] | None = None, **extra) -> Pool:
    return Pool(
        name=name,
        site=site,
        nodes=nodes,
        cpus=cpus,
        memory=memory,
        gpus=Gpus(count=gpus[0], type=gpus[1]) if gpus else None,
        span=span(),
        **extra,
    )


def site(name: str, kind: str = "slurm", pools: list[Pool] | None = None, **settings) -> Site:
    """A site; a Kubernetes one stages transfers through a bucket (without
    one, a plan moving data to or from it is E0806)."""
    if kind == "kubernetes" and "kubernetes" not in settings:
        settings["kubernetes"] = KubernetesSettings(staging="s3://staging/mlc")
    return Site(name=name, kind=kind, pools=pools or [pool("main", name)], span=span(), **settings)


def link(source: str, target: str, bandwidth: float, latency: float = 0.0, egress: float = 0.0) -> Link:
    return Link(source=source, target=target, bandwidth=bandwidth, latency=latency, egress=egress, span=span())


def dataset(name: str, at: str, size: int = 0, uri: str | None = None) -> Dataset:
    return Dataset(name=name, uri=uri or f"/data/{name}", size=size, site=at, span=span())


def instance(
    id: str,
    estimate: float = 60.0,
    by_key: dict[str, float] | None = None,
    reads: dict[str, str] | None = None,
    outputs: dict[str, int] | None = None,
    cpus: int = 1,
    memory: int = GiB,
    gpus: tuple[int, str | None] | None = None,
    time: float = 3600.0,
    stated: bool = True,
    line: int = 1,
    **extra,
) -> StageInstance:
    """`reads` maps an input name to "dataset:name" or "producer:output"."""
    inputs = []
    for name, source in sorted((reads or {}).items()):
        kind, _, rest = source.partition(":")
        if kind == "dataset":
            inputs.append(Input(name=name, dataset=rest, span=span(line)))
        else:
            inputs.append(Input(name=name, outputs=[(kind, rest)], span=span(line)))
    return StageInstance(
        id=id,
        stage=id.split("[")[0],
        command=[Text(text="true")],
        resources=Resources(cpus=cpus, memory=memory, gpus=Gpus(count=gpus[0], type=gpus[1]) if gpus else None, time=time),
        estimate=Estimate(default=estimate, by_key=by_key or {}, stated=stated),
        inputs=inputs,
        outputs=[Output(name=o, path=f"out/{id}/{o}", size=size, span=span(line)) for o, size in sorted((outputs or {}).items())],
        span=span(line),
        **extra,
    )


def service(name: str, reads: dict[str, str] | None = None, cpus: int = 1, memory: int = GiB, replicas: int = 1, **extra) -> Service:
    inputs = [
        Input(name=k, outputs=[tuple(v.split(":", 1))], span=span()) for k, v in sorted((reads or {}).items())
    ]
    return Service(
        name=name,
        resources=Resources(cpus=cpus, memory=memory),
        port=8080,
        replicas=replicas,
        inputs=inputs,
        span=span(),
        **extra,
    )


def secret(name: str, kubernetes: tuple[str, str] | None = None, env: str | None = None, file: str | None = None) -> Secret:
    return Secret(name=name, kubernetes=kubernetes, env=env, file=file, span=span())


def uses_secret(secret_name: str) -> dict:
    return {"env": {"TOKEN": SecretEnv(secret=secret_name)}}


def experiment(
    sites: list[Site],
    instances: list[StageInstance],
    services: list[Service] | None = None,
    datasets: list[Dataset] | None = None,
    links: list[Link] | None = None,
    objective: Objective | None = None,
    secrets: list[Secret] | None = None,
) -> Experiment:
    services = services or []
    datasets = datasets or []
    return Experiment(
        name="test",
        source=FILE,
        sources=[FILE],
        objective=objective or Objective(span=span(2)),
        sites=sites,
        links=links or [],
        datasets=datasets,
        secrets=secrets or [],
        instances=instances,
        services=services,
        span=span(),
    )
