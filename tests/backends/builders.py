"""Hand-built IR experiments and plans for the back-end tests: the shapes the
front end and placement produce, without depending on them."""

from __future__ import annotations

from compiler import ir
from compiler.sites import reach

MiB = 1024**2
GiB = 1024**3


def span(line: int = 1, file: str = "exp.mlx") -> ir.Span:
    return ir.Span(file=file, line=line, column=1, end_line=line, end_column=2)


def local_site(name: str = "laptop") -> ir.Site:
    pool = ir.Pool(name="default", site=name, nodes=1, cpus=2, memory=4 * GiB, span=span(3))
    return ir.Site(name=name, kind="local", pools=[pool], local=ir.LocalSettings(), span=span(3))


def slurm_site(name: str = "hpc", login: str | None = "login.hpc.example", **settings) -> ir.Site:
    gpu = ir.Pool(
        name="gpu", site=name, nodes=4, cpus=48, memory=512 * GiB,
        gpus=ir.Gpus(count=4, type="a100"), max_time=72 * 3600, span=span(5),
    )
    cpu = ir.Pool(name="cpu", site=name, nodes=8, cpus=48, memory=256 * GiB, span=span(6))
    slurm = ir.SlurmSettings(login=login, scratch="/scratch/mlc", **settings)
    return ir.Site(name=name, kind="slurm", pools=[gpu, cpu], slurm=slurm, span=span(4))


def kube_site(name: str = "cloud", **settings) -> ir.Site:
    """A cluster staging transfers through its bucket; `data_path="exec",
    staging=None`: through `kubectl exec` into the data mover."""
    pool = ir.Pool(name="cpu", site=name, nodes=2, cpus=8, memory=32 * GiB, span=span(8))
    settings = ir.KubernetesSettings(**{"context": "ctx", "namespace": "ns", "volume": "work",
                                        "staging": "s3://staging/mlc", **settings})
    return ir.Site(name=name, kind="kubernetes", pools=[pool], kubernetes=settings, span=span(7))


def output(name: str, path: str, kind: str = "file") -> ir.Output:
    return ir.Output(name=name, path=path, kind=kind, span=span(10))


def instance(
    id: str, command: list, *, stage: str | None = None, index: int = 0,
    sweep: dict | None = None, **fields,
) -> ir.StageInstance:
    return ir.StageInstance(
        id=id, stage=stage or id, index=index, sweep=sweep or {}, command=command,
        resources=fields.pop("resources", ir.Resources(cpus=1, memory=256 * MiB, time=300)),
        estimate=ir.Estimate(default=2.0), span=fields.pop("span", span(12)), **fields,
    )


def text(value: str) -> ir.Text:
    return ir.Text(text=value)


def port(direction: str, name: str) -> ir.PortRef:
    return ir.PortRef(direction=direction, name=name)


def experiment(name: str, sites, instances, stages, **fields) -> ir.Experiment:
    return ir.Experiment(
        name=name, source="exp.mlx", sources=["exp.mlx"], objective=ir.Objective(),
        sites=sites, instances=instances, stages=stages, span=span(1), **fields,
    )


def plan(exp: ir.Experiment, placements: dict[str, str], transfers=()) -> ir.Plan:
    """`placements` maps a unit to "site.pool"; times are spread out simply."""
    assignments = []
    for step, unit in enumerate(placements):
        site, _, pool = placements[unit].partition(".")
        kind = "service" if any(s.name == unit for s in exp.services) else "instance"
        assignments.append(ir.Assignment(
            unit=unit, kind=kind, site=site, pool=pool, start=10.0 * step,
            finish=10.0 * step + 5.0, reason="hand-placed",
        ))
    return ir.Plan(
        objective=exp.objective, assignments=assignments, transfers=list(transfers),
        makespan=10.0 * len(placements), algorithm="by hand",
    )


def quickstart() -> tuple[ir.Experiment, ir.Plan]:
    """examples/quickstart.mlx as the front end lowers it: make data, score
    three slopes (a sweep), pick the best — all on the local machine."""
    make = instance(
        "make_data",
        [text("printf '1,4\\n2,7\\n3,10\\n' > "), port("out", "table")],
        outputs=[output("table", "data/points.csv")],
    )
    scores = [
        instance(
            f"score[slope={slope}]",
            [text("awk -F, -v s=" + slope + " '{e+=($2-s*$1-1)^2} END {print s, e}' "),
             port("in", "table"), text(" > "), port("out", "error")],
            stage="score", index=i, sweep={"slope": float(slope)},
            inputs=[ir.Input(name="table", outputs=[("make_data", "table")], span=span(20))],
            outputs=[output("error", f"scores/{slope}.txt")],
        )
        for i, slope in enumerate(["2.0", "3.0", "4.0"])
    ]
    pick = instance(
        "pick",
        [text("sort -k2 -g "), port("in", "errors"), text(" | head -n 1 > "),
         port("out", "best"), text(" && cat "), port("out", "best")],
        inputs=[ir.Input(
            name="errors", outputs=[(s.id, "error") for s in scores], span=span(30),
        )],
        outputs=[output("best", "best.txt")],
    )
    stages = [
        ir.StageGroup(name="make_data", instances=["make_data"], span=span(12)),
        ir.StageGroup(name="score", instances=[s.id for s in scores], sweep_axes=["slope"], span=span(20)),
        ir.StageGroup(name="pick", instances=["pick"], span=span(30)),
    ]
    exp = experiment("quickstart", [local_site()], [make, *scores, pick], stages)
    placements = {i.id: "laptop.default" for i in exp.instances}
    return exp, plan(exp, placements)


def multisite(login: str | None = "login.hpc.example") -> tuple[ir.Experiment, ir.Plan]:
    """Local preparation, a GPU sweep on Slurm, evaluation on a Slurm CPU
    partition, a report and a service back on the local machine; a data set
    in an object store. Exercises every transfer kind except Kubernetes."""
    cloud = kube_site()
    coco = ir.Dataset(name="coco", uri="s3://bucket/coco", size=GiB, site=cloud.name, span=span(9))
    wandb = ir.Secret(name="wandb", file="~/.config/wandb/key", span=span(11))
    token = ir.Secret(name="token", env="HOST_TOKEN", span=span(11))
    prepare = instance(
        "prepare",
        [text("python3 prepare.py "), port("in", "raw"), text(" "), port("out", "data")],
        inputs=[ir.Input(name="raw", dataset="coco", span=span(13))],
        outputs=[output("data", "data/prep", kind="dir")],
    )
    gpu = ir.Resources(cpus=16, memory=64 * GiB, gpus=ir.Gpus(count=2, type="a100"), time=12 * 3600)
    trains = [
        instance(
            f"train[lr={lr}]",
            [text(f"python train.py --lr {lr} --data "), port("in", "data"), text(" --out "), port("out", "ckpt")],
            stage="train", index=i, sweep={"lr": float(lr)}, image="nvcr.io/nvidia/pytorch:24.01-py3",
            resources=gpu, retries=1,
            env={
                "WANDB_API_KEY": ir.SecretEnv(secret="wandb"),
                "API_TOKEN": ir.SecretEnv(secret="token"),
                "WANDB_PROJECT": ir.LiteralEnv(value="it's \"ours\""),
            },
            inputs=[ir.Input(name="data", outputs=[("prepare", "data")], span=span(15))],
            outputs=[output("ckpt", f"ckpt/{lr}/model.pt")],
        )
        for i, lr in enumerate(["0.1", "0.01"])
    ]
    evaluate = instance(
        "evaluate",
        [text("python pick.py "), port("in", "ckpts"), text(" > "), port("out", "best")],
        inputs=[ir.Input(name="ckpts", outputs=[(t.id, "ckpt") for t in trains], span=span(17))],
        outputs=[output("best", "best.txt")],
    )
    report = instance(
        "report",
        [text("cp "), port("in", "best"), text(" "), port("out", "report")],
        inputs=[ir.Input(name="best", outputs=[("evaluate", "best")], span=span(19))],
        outputs=[output("report", "report/best.txt")],
    )
    viewer = ir.Service(
        name="viewer", command=[text("python3 -m http.server 8765 --directory report")],
        resources=ir.Resources(), port=8765, health="/", after=["report"], span=span(21),
    )
    stages = [
        ir.StageGroup(name="prepare", instances=["prepare"], span=span(13)),
        ir.StageGroup(name="train", instances=[t.id for t in trains], sweep_axes=["lr"], span=span(15)),
        ir.StageGroup(name="evaluate", instances=["evaluate"], span=span(17)),
        ir.StageGroup(name="report", instances=["report"], span=span(19)),
    ]
    exp = experiment(
        "multi", [local_site(), slurm_site(login=login), cloud],
        [prepare, *trains, evaluate, report], stages,
        datasets=[coco], secrets=[wandb, token], services=[viewer],
    )
    placements = {
        "prepare": "laptop.default",
        **{t.id: "hpc.gpu" for t in trains},
        "evaluate": "hpc.cpu",
        "report": "laptop.default",
        "viewer": "laptop.default",
    }
    transfers = [
        ir.Transfer(
            id="to_laptop__dataset_coco", source_site="cloud", target_site="laptop",
            what=ir.DatasetRef(dataset="coco"), path="s3://bucket/coco", target_path="datasets/coco",
            kind="dir", consumers=["prepare"], route=reach.route(exp, "cloud", "laptop", "s3://bucket/coco"),
        ),
        ir.Transfer(
            id="to_hpc__prepare_data", source_site="laptop", target_site="hpc",
            what=ir.OutputRef(instance="prepare", output="data"), path="data/prep", target_path="data/prep",
            kind="dir", consumers=[t.id for t in trains], route=reach.route(exp, "laptop", "hpc", "data/prep"),
        ),
        ir.Transfer(
            id="to_laptop__evaluate_best", source_site="hpc", target_site="laptop",
            what=ir.OutputRef(instance="evaluate", output="best"), path="best.txt", target_path="best.txt", consumers=["report"],
            route=reach.route(exp, "hpc", "laptop", "best.txt"),
        ),
    ]
    return exp, plan(exp, placements, transfers)


HOSTILE = [
    "it's",
    'say "hi"',
    "two\nlines",
    "$(touch pwned)",
    "`touch pwned`",
    "${HOME}",
    "naïve – ünïcödé 🚀",
    "back\\slash; rm -rf / #",
    "-rf",
    "x" * 3000,
]


def hostile_local(values: list[str]) -> tuple[ir.Experiment, ir.Plan]:
    """A local sweep with one member per value: the member's name, output
    path and environment carry the value, and the member writes the variable
    it sees into its output; `check` reads every output."""
    members = [
        instance(
            f"echo[v={value}]",
            [text("python3 -c 'import os, sys; open(sys.argv[1], \"w\").write(os.environ[\"HOSTILE\"])' "),
             port("out", "seen")],
            stage="echo", index=index, sweep={"v": value}, env={"HOSTILE": ir.LiteralEnv(value=value)},
            outputs=[output("seen", f"out/{index}/{value[:200].replace('/', '_')}.txt")],
        )
        for index, value in enumerate(values)
    ]
    reader = instance(
        "check",
        [text("cat "), port("in", "seen"), text(" > "), port("out", "copy")],
        inputs=[ir.Input(name="seen", outputs=[(m.id, "seen") for m in members], span=span(20))],
        outputs=[output("copy", "copy.txt")],
    )
    stages = [
        ir.StageGroup(name="echo", instances=[m.id for m in members], sweep_axes=["v"], span=span(12)),
        ir.StageGroup(name="check", instances=["check"], span=span(20)),
    ]
    exp = experiment("hostile", [local_site()], [*members, reader], stages)
    return exp, plan(exp, {i.id: "laptop.default" for i in exp.instances})


def with_kubernetes(**cloud_settings) -> tuple[ir.Experiment, ir.Plan]:
    """Preparation on Kubernetes next to its object-store data set, training
    on Slurm, a service back on Kubernetes: transfers out of and into a
    Kubernetes volume, through its staging bucket (or `cloud_settings`)."""
    cloud = kube_site(**cloud_settings)
    coco = ir.Dataset(name="coco", uri="s3://bucket/coco", size=GiB, site=cloud.name, span=span(9))
    prepare = instance(
        "prepare",
        [text("python prepare.py "), port("in", "raw"), text(" "), port("out", "data")],
        inputs=[ir.Input(name="raw", dataset="coco", span=span(13))],
        outputs=[output("data", "data/prep", kind="dir")],
    )
    train = instance(
        "train",
        [text("python train.py "), port("in", "data"), text(" "), port("out", "model")],
        inputs=[ir.Input(name="data", outputs=[("prepare", "data")], span=span(15))],
        outputs=[output("model", "model.pt")],
    )
    serve = ir.Service(
        name="serve", command=[text("serve --model "), port("in", "model")], resources=ir.Resources(),
        port=8080, health="/healthz",
        inputs=[ir.Input(name="model", outputs=[("train", "model")], span=span(17))], span=span(17),
    )
    stages = [
        ir.StageGroup(name="prepare", instances=["prepare"], span=span(13)),
        ir.StageGroup(name="train", instances=["train"], span=span(15)),
    ]
    exp = experiment(
        "kube", [slurm_site(), cloud], [prepare, train], stages, datasets=[coco], services=[serve],
    )
    transfers = [
        ir.Transfer(
            id="to_hpc__prepare_data", source_site="cloud", target_site="hpc", what=ir.OutputRef(instance="prepare", output="data"),
            path="data/prep", target_path="data/prep", kind="dir", consumers=["train"],
            route=reach.route(exp, "cloud", "hpc", "data/prep"),
        ),
        ir.Transfer(
            id="to_cloud__train_model", source_site="hpc", target_site="cloud", what=ir.OutputRef(instance="train", output="model"),
            path="model.pt", target_path="model.pt", consumers=["serve"],
            route=reach.route(exp, "hpc", "cloud", "model.pt"),
        ),
    ]
    placements = {"prepare": "cloud.cpu", "train": "hpc.gpu", "serve": "cloud.cpu"}
    return exp, plan(exp, placements, transfers)
