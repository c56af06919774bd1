"""Hand-built IR for the Kubernetes back-end tests: the rtmdet case study
(examples/rtmdet.mlx) as the front end lowers it, with knobs for the shapes
the Kubernetes back end must handle (a sweep on a pool, no named volume)."""

from __future__ import annotations

from compiler import ir
from compiler.sites import reach

MiB = 1024**2
GiB = 1024**3
HOUR = 3600.0


def span(line: int, file: str = "examples/rtmdet.mlx") -> ir.Span:
    return ir.Span(file=file, line=line, column=1, end_line=line, end_column=2)


def text(value: str) -> ir.Text:
    return ir.Text(text=value)


def port(direction: str, name: str) -> ir.PortRef:
    return ir.PortRef(direction=direction, name=name)


def cloud_site(**settings) -> ir.Site:
    gpu = ir.Pool(
        name="gpu", site="cloud", nodes=2, cpus=16, memory=64 * GiB, gpus=ir.Gpus(count=1, type="t4"),
        price=1.2, selector={"pool": "gpu"}, tolerations=["nvidia.com/gpu=present:NoSchedule"],
        span=span(29, "examples/sites/hse.mlx"),
    )
    cpu = ir.Pool(
        name="cpu", site="cloud", nodes=4, cpus=8, memory=32 * GiB, price=0.2, selector={"pool": "cpu"},
        span=span(33, "examples/sites/hse.mlx"),
    )
    values = {"context": "hse-cloud", "namespace": "mlops", "volume": "mlops-work",
              "staging": "s3://hse-mlops-staging/mlc"} | settings
    return ir.Site(
        name="cloud", kind="kubernetes", pools=[gpu, cpu], kubernetes=ir.KubernetesSettings(**values),
        span=span(24, "examples/sites/hse.mlx"),
    )


def charisma_site() -> ir.Site:
    gpu = ir.Pool(
        name="gpu", site="charisma", nodes=26, cpus=48, memory=768 * GiB, gpus=ir.Gpus(count=4, type="a100"),
        max_time=72 * HOUR, span=span(13, "examples/sites/hse.mlx"),
    )
    cpu = ir.Pool(
        name="cpu", site="charisma", nodes=16, cpus=48, memory=384 * GiB, span=span(16, "examples/sites/hse.mlx")
    )
    slurm = ir.SlurmSettings(login="charisma.hpc.hse.ru", account="proj-mlops", scratch="/scratch/proj-mlops/mlc")
    return ir.Site(name="charisma", kind="slurm", pools=[gpu, cpu], slurm=slurm, span=span(5, "examples/sites/hse.mlx"))


def rtmdet(
    *, train_on: str = "cloud.gpu", evaluate_on: str = "charisma.cpu", cloud: ir.Site | None = None,
    train_env: dict[str, ir.EnvValue] | None = None, name: str = "rtmdet",
) -> tuple[ir.Experiment, ir.Plan]:
    """The case study. `train_on` places the whole sweep on one pool, or
    "split" puts its first member on cloud.cpu and the rest on cloud.gpu."""
    cloud = cloud or cloud_site()
    coco = ir.Dataset(name="coco", uri="s3://datasets/coco2017", size=25 * 10**9, site="cloud", span=span(17))
    wandb = ir.Secret(
        name="wandb", kubernetes=("wandb-credentials", "api-key"), file="~/.config/wandb/api-key", span=span(12)
    )
    prepare = ir.StageInstance(
        id="prepare", stage="prepare", image="docker://python:3.11-slim",
        command=[text("python prepare.py "), port("in", "raw"), text(" "), port("out", "data")],
        resources=ir.Resources(cpus=8, memory=16 * GiB, time=HOUR), estimate=ir.Estimate(default=1200.0),
        inputs=[ir.Input(name="raw", dataset="coco", span=span(38))],
        outputs=[ir.Output(name="data", path="data/coco", kind="dir", size=30 * 10**9, span=span(39))],
        span=span(37),
    )
    lrs = ["0.01", "0.004", "0.001"]
    env = train_env or {"WANDB_API_KEY": ir.SecretEnv(secret="wandb"), "WANDB_PROJECT": ir.LiteralEnv(value="rtmdet")}
    trains = [
        ir.StageInstance(
            id=f"train[lr={lr}]", stage="train", index=i, sweep={"lr": float(lr)},
            image="docker://nvcr.io/nvidia/pytorch:24.01-py3",
            command=[
                text(f"python tools/train.py configs/rtmdet_tiny.py \\\n  --lr {lr} --epochs 12 --work-dir "),
                port("out", "ckpt"),
            ],
            resources=ir.Resources(cpus=32, memory=128 * GiB, gpus=ir.Gpus(count=4, type="a100"), time=12 * HOUR),
            estimate=ir.Estimate(default=6 * HOUR, by_key={"a100": 6 * HOUR, "t4": 30 * HOUR}),
            retries=1, env=env, template="Train",
            inputs=[ir.Input(name="data", outputs=[("prepare", "data")], span=span(50))],
            outputs=[ir.Output(name="ckpt", path=f"work/{lr}/best.pth", size=200 * 10**6, span=span(51))],
            span=span(49),
        )
        for i, lr in enumerate(lrs)
    ]
    evaluate = ir.StageInstance(
        id="evaluate", stage="evaluate",
        command=[text("python pick_best.py "), port("in", "ckpts"), text(" --out "), port("out", "best")],
        resources=ir.Resources(cpus=4, memory=8 * GiB, time=1800.0), estimate=ir.Estimate(default=600.0),
        inputs=[ir.Input(name="ckpts", outputs=[(t.id, "ckpt") for t in trains], span=span(57))],
        outputs=[ir.Output(name="best", path="work/best.pth", size=200 * 10**6, span=span(58))],
        span=span(56),
    )
    detector = ir.Service(
        name="detector", image="docker://registry.hse.ru/rtmdet-serve:1.0",
        command=[text("serve --model "), port("in", "model"), text(" --port 8080")],
        resources=ir.Resources(cpus=4, memory=8 * GiB, gpus=ir.Gpus(count=1)), replicas=2, port=8080,
        health="/healthz", inputs=[ir.Input(name="model", outputs=[("evaluate", "best")], span=span(65))],
        on=["cloud"], span=span(63),
    )
    stages = [
        ir.StageGroup(name="prepare", instances=["prepare"], span=span(37)),
        ir.StageGroup(name="train", instances=[t.id for t in trains], sweep_axes=["lr"], span=span(49)),
        ir.StageGroup(name="evaluate", instances=["evaluate"], span=span(56)),
    ]
    experiment = ir.Experiment(
        name=name, description="Train RTMDet on the cluster, serve the best model in the cloud",
        source="examples/rtmdet.mlx", sources=["examples/rtmdet.mlx", "examples/sites/hse.mlx"],
        objective=ir.Objective(deadline=48 * HOUR), params={"epochs": 12},
        sites=[charisma_site(), cloud], datasets=[coco], secrets=[wandb], stages=stages,
        instances=[prepare, *trains, evaluate], services=[detector], span=span(4),
    )
    placements = {"prepare": "cloud.cpu"}
    for i, train in enumerate(trains):
        placements[train.id] = "cloud.cpu" if train_on == "split" and i == 0 else (
            "cloud.gpu" if train_on == "split" else train_on
        )
    placements["evaluate"] = evaluate_on
    placements["detector"] = "cloud.gpu"
    return experiment, plan(experiment, placements)


def plan(experiment: ir.Experiment, placements: dict[str, str]) -> ir.Plan:
    """Assignments as given, and a transfer for every output consumed on
    another site (what placement would add)."""
    services = {s.name for s in experiment.services}
    assignments = []
    for step, (unit, where) in enumerate(placements.items()):
        site, _, pool = where.partition(".")
        kind = "service" if unit in services else "instance"
        assignments.append(
            ir.Assignment(unit=unit, kind=kind, site=site, pool=pool, start=10.0 * step, finish=10.0 * step + 5)
        )
    site_of = {unit: where.partition(".")[0] for unit, where in placements.items()}
    transfers = []
    consumers = [*experiment.instances, *experiment.services]
    for consumer in consumers:
        for port_ in consumer.inputs:
            for producer, output_name in port_.outputs:
                name = getattr(consumer, "id", None) or consumer.name
                if site_of[producer] == site_of[name]:
                    continue
                output = next(o for o in experiment.instance(producer).outputs if o.name == output_name)
                transfers.append(
                    ir.Transfer(
                        id=f"move_{len(transfers)}", source_site=site_of[producer], target_site=site_of[name],
                        what=ir.OutputRef(instance=producer, output=output_name), path=output.path, target_path=output.path,
                        size=output.size, kind=output.kind, consumers=[name],
                        route=reach.route(experiment, site_of[producer], site_of[name], output.path),
                    )
                )
    return ir.Plan(objective=experiment.objective, assignments=assignments, transfers=transfers, algorithm="by hand")


def sweep_on_cloud(
    stage_names: list[str], *, experiment_name: str = "tiny", command: list[ir.CommandPart] | None = None,
    env: list[dict[str, ir.EnvValue]] | None = None,
) -> tuple[ir.Experiment, ir.Plan]:
    """Stages with the given names, each a sweep of len(env) members (default
    two) writing `out/<stage index>/<member>.txt`, all on cloud.cpu."""
    members_env = env or [{}, {}]
    command = command or [text("echo hello > "), port("out", "result")]
    instances, stages = [], []
    for s, stage_name in enumerate(stage_names):
        members = [
            ir.StageInstance(
                id=f"{stage_name}[{m}]", stage=stage_name, index=m, sweep={"m": m}, command=command,
                resources=ir.Resources(cpus=1, memory=512 * MiB, time=60.0), estimate=ir.Estimate(default=1.0),
                env=member_env, outputs=[ir.Output(name="result", path=f"out/{s}/{m}.txt", span=span(3))],
                span=span(2),
            )
            for m, member_env in enumerate(members_env)
        ]
        instances += members
        stages.append(ir.StageGroup(name=stage_name, instances=[i.id for i in members], sweep_axes=["m"], span=span(2)))
    experiment = ir.Experiment(
        name=experiment_name, source="exp.mlx", sources=["exp.mlx"], objective=ir.Objective(),
        sites=[cloud_site()], stages=stages, instances=instances, span=span(1),
    )
    return experiment, plan(experiment, {i.id: "cloud.cpu" for i in instances})


def distributed() -> tuple[ir.Experiment, ir.Plan]:
    """examples/distributed.mlx on the cloud: a 2-node torchrun stage in its
    cloud shape (as placement resolves it), and a 2-node srun stage with two
    tasks per node, both on cloud.gpu."""
    where = "examples/distributed.mlx"
    train = ir.StageInstance(
        id="train", stage="train", image="nvcr.io/nvidia/pytorch:24.01-py3",
        command=[text("train.py --out "), port("out", "ckpt")],
        resources=ir.Resources(cpus=12, memory=48 * GiB, gpus=ir.Gpus(count=1, type="t4"), time=40 * HOUR, nodes=2),
        estimate=ir.Estimate(default=30 * HOUR), launch=ir.Launch(kind="torchrun"),
        outputs=[ir.Output(name="ckpt", path="ckpt/best.pth", span=span(24, where))], span=span(22, where),
    )
    barrier = ir.StageInstance(
        id="barrier", stage="barrier", command=[text('python3 barrier.py > "rank-$MLC_NODE_RANK-$MLC_LOCAL_RANK.txt"')],
        resources=ir.Resources(cpus=2, memory=1 * GiB, time=600.0, nodes=2),
        estimate=ir.Estimate(default=60.0), launch=ir.Launch(kind="srun", tasks_per_node=2), span=span(40, where),
    )
    stages = [ir.StageGroup(name=i.stage, instances=[i.id], span=i.span) for i in (train, barrier)]
    experiment = ir.Experiment(
        name="distributed", source=where, sources=[where, "examples/sites/hse.mlx"], objective=ir.Objective(),
        sites=[cloud_site()], stages=stages, instances=[train, barrier], span=span(6, where),
    )
    return experiment, plan(experiment, {"train": "cloud.gpu", "barrier": "cloud.gpu"})


def with_fetch(experiment: ir.Experiment, plan: ir.Plan) -> tuple[ir.Experiment, ir.Plan]:
    """`plan` plus a data set in object storage copied into the cloud site's
    work volume: the route a Job inside the cluster runs (fetch.py)."""
    from compiler.sites import reach

    uri = "s3://datasets/coco2017"
    transfer = ir.Transfer(
        id="to_cloud__dataset_coco", source_site="charisma", target_site="cloud",
        what=ir.DatasetRef(dataset="coco"), path=uri, target_path="datasets/coco", kind="dir",
        consumers=["prepare"], route=reach.route(experiment, "charisma", "cloud", uri),
    )
    return experiment, plan.model_copy(update={"transfers": [*plan.transfers, transfer]})
