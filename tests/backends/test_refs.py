"""What a transfer moves is a typed reference (ir.DatasetRef / ir.OutputRef),
not a string to parse: a stage named `dataset`, an output named like a data
set, and an instance id containing ':' keep every consumer's ordering input
and every transfer (issue 10, issue 11 item 3)."""

from __future__ import annotations

import re

from compiler import frontend, ir, placement
from compiler.backends import emit

SITES = """
experiment refs { description = "typed references" }

site here : local { cpus = 2; memory = 4GiB }
site cluster : slurm {
  scratch = "/tmp/mlc-refs"
  partition cpu { nodes = 1; cpus = 2; memory = 4GiB }
}
link cluster <-> here { bandwidth = 1Gbps; latency = 1ms }

dataset coco { uri = "/data/coco"; size = 1MB; at = here }
"""

STAGE = """
stage {name} {{
  {body}
  cpus = 1; memory = 256MiB; time = 5m; estimate = 1s
  on = {site}
  run = "true"
}}
"""


def _stage(name: str, site: str, *lines: str) -> str:
    return STAGE.format(name=name, site=site, body="\n  ".join(lines))


def _compile(tmp_path, source: str) -> tuple[ir.Experiment, ir.Plan, dict[str, str]]:
    path = tmp_path / "refs.mlx"
    path.write_text(SITES + source, encoding="utf-8")
    experiment, diagnostics, _ = frontend.load(str(path), {})
    assert experiment is not None, [d.message for d in diagnostics.items]
    plan = placement.place(experiment)
    return experiment, plan, emit(experiment, plan)


def _waits_for(snakefile: str) -> dict[str, set[str]]:
    """Rule name -> the rules whose completion flags it takes as input."""
    waits = {}
    for match in re.finditer(r"^rule (\w+):\n    input:\n((?:        .*\n)*)", snakefile, re.MULTILINE):
        waits[match.group(1)] = set(re.findall(r'"\.mlc/done/(\w+)"', match.group(2)))
    return waits


def _transfer_rule(plan: ir.Plan, what: ir.DatasetRef | ir.OutputRef) -> str:
    found = [t for t in plan.transfers if t.what == what]
    assert len(found) == 1, plan.transfers
    return found[0].id


def test_a_stage_named_dataset_orders_its_consumer_on_the_same_site(tmp_path):
    _, _, files = _compile(tmp_path, _stage("dataset", "here", 'out coco = file("c.txt", size = 1KB)')
                           + _stage("use", "here", "in x = dataset.coco"))
    assert "dataset" in _waits_for(files["Snakefile"])["use"]


def test_a_stage_named_dataset_orders_its_transfer(tmp_path):
    experiment, plan, files = _compile(
        tmp_path, _stage("dataset", "here", 'out coco = file("c.txt", size = 1KB)')
        + _stage("use", "cluster", "in x = dataset.coco"))
    moved = _transfer_rule(plan, ir.OutputRef(instance="dataset", output="coco"))
    waits = _waits_for(files["Snakefile"])
    assert "dataset" in waits[moved]
    assert moved in waits["use"]


def test_an_output_named_like_a_data_set_moves_beside_the_data_set(tmp_path):
    """`dataset.coco` (an output) and `coco` (a data set) are two things to
    move, with two transfers and two target paths."""
    experiment, plan, files = _compile(
        tmp_path, _stage("dataset", "here", 'out coco = file("made/coco.txt", size = 1KB)')
        + _stage("use", "cluster", "in x = dataset.coco", "in y = coco"))
    made = _transfer_rule(plan, ir.OutputRef(instance="dataset", output="coco"))
    data = _transfer_rule(plan, ir.DatasetRef(dataset="coco"))
    assert made != data
    waits = _waits_for(files["Snakefile"])
    assert {made, data} <= waits["use"]
    assert "dataset" in waits[made] and "dataset" not in waits[data]
    paths = {t.id: t.target_path for t in plan.transfers}
    assert paths[made] == "made/coco.txt" and paths[data] == "datasets/coco"
    # The graph draws the data set as a stadium and the stage as a box, each
    # feeding the consumer.
    graph = files["graph.mmd"]
    assert '(["coco"])' in graph and '["dataset<br/>' in graph
    assert graph.count(" --> ") == 2


def test_an_instance_id_with_a_colon_keeps_its_transfer(tmp_path):
    experiment, plan, files = _compile(
        tmp_path, 'param tags: list[str] = ["a:b"]\n'
        + _stage("gen for tag in tags", "here", 'out o = file("g/${tag}.txt", size = 1KB)')
        + _stage("use", "cluster", "in x = gen.o"))
    (producer,) = [i.id for i in experiment.instances if i.stage == "gen"]
    assert ":" in producer
    moved = _transfer_rule(plan, ir.OutputRef(instance=producer, output="o"))
    waits = _waits_for(files["Snakefile"])
    producer_rule = next(name for name in waits if name.startswith("gen_"))
    assert producer_rule in waits[moved] and moved in waits["use"]
    # The transfer script says where the moved output was declared.
    script = files[next(p for p in files if p.startswith("transfers/"))]
    assert f"refs.mlx:{experiment.instance(producer).span.line} " in script.splitlines()[1]
