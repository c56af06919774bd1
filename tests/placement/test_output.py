"""What the user sees: the table, the pictures, and the shipped examples."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from compiler.frontend import load
from compiler.ir import DatasetRef
from compiler.placement import dag_svg, gantt_svg, mermaid, place, render_table

from .builders import dataset, experiment, instance, link, pool, service, site

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def small():
    sites = [
        site("hpc", "slurm", [pool("gpu", "hpc", nodes=1, gpus=(1, "a100")), pool("cpu", "hpc", nodes=2)]),
        site("cloud", "kubernetes", [pool("cpu", "cloud", price=1.0)]),
    ]
    data = dataset("raw", "cloud", size=10**9, uri="s3://b/raw")
    prep = instance("prep", reads={"r": "dataset:raw"}, outputs={"d": 10**8})
    train = [instance(f"train[lr={lr}]", gpus=(1, "a100"), estimate=600, reads={"d": "prep:d"}, outputs={"m": 10**6}) for lr in (1, 2)]
    pick = instance("pick & <best>", reads={"m": "train[lr=1]:m", "n": "train[lr=2]:m"}, outputs={"b": 10})
    serve = service("serve", reads={"b": "pick & <best>:b"}, on=["cloud"])
    exp = experiment(sites, [prep, *train, pick], services=[serve], datasets=[data], links=[link("hpc", "cloud", 1e8, egress=0.1)])
    return exp, place(exp)


def test_table_has_a_row_per_unit_and_the_totals():
    exp, plan = small()
    text = render_table(exp, plan)
    lines = text.splitlines()
    assert lines[0].split() == ["unit", "site/pool", "start", "finish", "cost", "reason"]
    for a in plan.assignments:
        assert any(line.startswith(a.unit) for line in lines)
    assert "(service)" in text
    assert "makespan" in text and "lower bound" in text and "egress" in text
    assert render_table(exp, plan) == text


def test_pictures_are_well_formed_and_reproducible():
    exp, plan = small()
    for draw in (gantt_svg, dag_svg):
        picture = draw(exp, plan)
        root = ET.fromstring(picture)  # escapes `&` and `<` in unit names
        assert root.tag == f"{SVG}svg"
        titles = " ".join(t.text for t in root.iter(f"{SVG}title"))
        assert "pick & <best>" in titles
        assert draw(exp, small()[1]) == picture
    chart = mermaid(exp, plan)
    assert chart.startswith("flowchart LR\n")
    assert 'subgraph hpc["hpc (slurm)"]' in chart
    assert chart.count(" --> ") == 6  # raw->prep, prep->train x2, train->pick x2, pick->serve


def test_the_shipped_examples_place():
    exp, diagnostics, _ = load(str(ROOT / "examples/rtmdet.mlx"), {})
    assert exp is not None, diagnostics
    plan = place(exp)
    for member in ("train[lr=0.01]", "train[lr=0.004]", "train[lr=0.001]"):
        assert plan.where(member).reason == "only charisma.gpu offers a100"
    assert plan.where("detector").site == "cloud"
    coco = next(t for t in plan.transfers if t.what == DatasetRef(dataset="coco"))
    assert coco.target_path == "datasets/coco"
    assert plan.makespan < 48 * 3600  # the experiment's deadline

    exp, diagnostics, _ = load(str(ROOT / "examples/quickstart.mlx"), {})
    assert exp is not None, diagnostics
    plan = place(exp)
    assert {a.site for a in plan.assignments} == {"laptop"}
    # Two cpus: two of the three 2 s scores run together, then the third.
    assert plan.makespan == pytest.approx(2 + 2 + 2 + 1)


def test_the_benchmark_runs_on_its_smallest_size(tmp_path):
    # The benchmark generates its workflows with WfCommons (the `bench` and
    # `test` extras), which mlc itself never imports; .ci/test installs it.
    pytest.importorskip("wfcommons")
    out = tmp_path / "results.md"
    # This checkout's compiler, not whichever copy is installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/placement/run.py"), "--smoke", "--output", str(out)],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "| workflow |" in text and "HEFT" in text
