"""examples/ablation.mlx has real project scripts (examples/ablation/): its
stages' commands, exactly as the compiler renders them (text and exported
values), run end to end on this machine in a work tree laid out as the
sites' are (the project paths at the same relative paths), and the `code`
list brings the scripts to every site that runs a stage.

Its data set lives on the cluster (/datasets/imagenet100); here a small one
of the same shape (class folders) stands in for it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from compiler import frontend, placement
from compiler.backends import commands, shipping
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"


def _compiled():
    experiment, diagnostics, _ = frontend.load(str(EXAMPLES / "ablation.mlx"), {})
    assert experiment is not None, [d.message for d in diagnostics.items]
    return experiment, placement.place(experiment)


def _run(experiment, plan, unit: str, tree: Path, data: Path) -> None:
    rendered = commands.render_command(experiment, plan, unit)
    env = {**os.environ, **dict(rendered.exports), "MLC_IN_data": str(data), "MLC_IN_raw": str(data)}
    env = {name: value for name, value in env.items() if name != "HF_TOKEN"}
    for output in experiment.instance(unit).outputs:  # the generated scripts make the parents
        (tree / output.path).parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["bash", "-eo", "pipefail", "-c", rendered.text], cwd=tree, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{unit}: {result.stdout}{result.stderr}"


def test_the_ablation_stages_run_end_to_end_with_their_project_scripts(tmp_path):
    experiment, plan = _compiled()
    data = tmp_path / "imagenet100"
    for label in ("cat", "dog", "fox"):
        for i in range(5):
            (data / label).mkdir(parents=True, exist_ok=True)
            (data / label / f"{i}.jpg").write_bytes(bytes([i]) * 16)
    tree = tmp_path / "work"
    tree.mkdir()
    for path in ("ablation", "configs"):  # as a local site's ship/<site>.sh links them
        (tree / path).symlink_to(EXAMPLES / path)

    for stage in ("split", "train", "report"):
        for unit in [i.id for i in experiment.instances if i.stage == stage]:
            _run(experiment, plan, unit, tree, data)

    assert len(list((tree / "runs").glob("*/*/model.pt"))) == 9
    table = (tree / "report/ablation.md").read_text().splitlines()
    assert table[0] == "| augmentation | runs | final accuracy (mean) |"
    assert sorted(row.split(" | ")[0].lstrip("| ") for row in table[2:]) == ["mixup", "none", "randaugment"]
    assert all(" | 3 | " in row for row in table[2:])


def test_every_site_that_runs_a_stage_gets_the_scripts():
    experiment, plan = _compiled()
    needs = {site: [p.path for p in paths] for site, paths in shipping.needs(experiment, plan).items()}
    used = {a.site for a in plan.assignments}
    assert set(needs) == used
    for site in used:
        assert "ablation" in needs[site]
    reader = plan.where("split").site
    assert "configs/split.yaml" in needs[reader]
