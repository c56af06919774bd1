"""`mlc import mldev`: the experiments under data/mldev, translated."""

from __future__ import annotations

from pathlib import Path

import pytest
from checked import edges, load_clean, stage_names

from compiler.interop import import_mldev

DATA = Path(__file__).parent / "data" / "mldev"


def codes_at(result) -> list[tuple[str, int]]:
    return [(d.code, d.span.line) for d in result.diagnostics]


def test_train_evaluate_pipeline(tmp_path):
    result = import_mldev(DATA / "train_evaluate.yml")
    assert result.diagnostics == []
    experiment = load_clean(result.text, tmp_path)
    assert stage_names(experiment) == ["prepare", "train", "evaluate", "report"]
    # Data: prepare -> train -> evaluate, and evaluate reads prepare's folder too;
    # `report` reads nothing, so only the pipeline order puts it last.
    assert edges(experiment) == {
        ("prepare", "train"), ("train", "evaluate"), ("prepare", "evaluate"),
        ("evaluate", "report"),
    }
    text = result.text
    assert "param prepare_size: int = 1000" in text
    assert "param train_model_kind: str = \"logreg\"" in text  # nested params flattened
    assert "param random_seed: int = 45" in text  # ${root.random_seed}
    assert "--seed ${random_seed} --out ${out.data}" in text
    # an input inside another stage's output folder: the folder, then the rest
    assert "in X_test_pickle = prepare.data" in text
    assert "--data ${in.X_test_pickle}/X_test.pickle" in text
    # ${root.train.outputs[0].files[0]}: evaluate reads that folder itself
    assert "--model ${in.default}/model.pickle" in text
    # ports exist only in `run`: elsewhere a path is written out; ${env.HOME}
    # is left to the shell
    assert 'env = {MODEL_DIR: "models/default", CACHE: "$${HOME}/.cache/train"}' in text
    assert 'run = "echo \\"done: $$USER\\" | tee report.txt"' in text


def test_multi_line_script_is_a_long_string_joined_with_and():
    text = import_mldev(DATA / "train_evaluate.yml").text
    block = text[text.index("stage train {"):text.index("stage evaluate {")]
    assert 'run = """\nmkdir -p ${out.default} &&\n{\npython3 src/train.py \\\n' in block
    assert "--out ${out.default}/model.pickle\n}\n\"\"\"" in block


def test_anchors_aliases_and_merge_keys(tmp_path):
    result = import_mldev(DATA / "anchors.yml")
    assert result.diagnostics == []
    experiment = load_clean(result.text, tmp_path)
    assert stage_names(experiment) == ["make_features", "fit", "plot"]
    # fit reads make-features' outputs through an alias; plot follows the
    # `stages:` order only.
    assert edges(experiment) == {("make_features", "fit"), ("fit", "plot")}
    text = result.text
    # `<<: *defaults` brings env and params; fit's own params override
    assert text.count('env = {PYTHONHASHSEED: "0", OMP_NUM_THREADS: "4"}') == 2
    assert "param make_features_batch_size: int = 64" in text
    assert "param fit_lr: float = 0.001" in text
    assert "param fit_layers: list[int] = [64, 32]" in text
    assert "--batch ${make_features_batch_size} --data ${in.features}/train.npy" in text


def test_services_custom_tags_and_expressions_are_warnings_and_todos(tmp_path):
    result = import_mldev(DATA / "monitoring.yml")
    assert codes_at(result) == [
        ("W0902", 3), ("W0901", 9), ("W0904", 13), ("W0903", 19), ("W0903", 26),
        ("W0903", 27), ("W0908", 34),
    ]
    assert not any(d.severity == "error" for d in result.diagnostics)
    expression = result.diagnostics[4]
    assert (expression.span.column, expression.span.end_column) == (34, 59)
    text = result.text
    assert stage_names(load_clean(text, tmp_path)) == ["train"]
    for todo in ("monitoring.yml:3: MLDev service `!MonitoringService`",
                 "monitoring.yml:9: custom tag `!MyDistributedTrainer`",
                 "monitoring.yml:13: `!function src/metrics.py:score`",
                 "monitoring.yml:34: pipeline entry `unknown_stage`",
                 "// TODO: expression `${self.params.epochs + 1}` kept as literal text"):
        assert todo in text
    # kept as text, escaped so that mlx does not interpolate it
    assert "--epochs $${self.params.epochs + 1}" in text


def test_malformed_yaml_is_an_error_with_a_position():
    result = import_mldev(DATA / "malformed.yml")
    assert result.text == ""
    [error] = result.diagnostics
    assert error.code == "E0902" and error.severity == "error"
    assert (error.span.line, error.span.column) == (5, 4)


@pytest.mark.parametrize("source, code", [
    ("- just\n- a list\n", "E0903"),
    ("stage: !BasicStage [not, a, mapping]\n", "E0903"),
    ("a: [unclosed\n", "E0902"),
    ("a: 1\n---\nb: 2\n", "E0902"),
])
def test_wrong_shapes_are_errors_not_crashes(tmp_path, source, code):
    path = tmp_path / "experiment.yml"
    path.write_text(source)
    result = import_mldev(path)
    assert code in [d.code for d in result.diagnostics]
    assert not result.ok


def test_unreadable_file(tmp_path):
    result = import_mldev(tmp_path / "missing.yml")
    assert [d.code for d in result.diagnostics] == ["E0901"]


def test_pipeline_order_against_the_data_flow_keeps_the_data(tmp_path):
    path = tmp_path / "backwards.yml"
    path.write_text(
        "a: &a !BasicStage\n"
        "  outputs: [!path {path: out.txt}]\n"
        "  script: [make]\n"
        "b: &b !BasicStage\n"
        "  inputs: [!path {path: out.txt}]\n"
        "  script: [use]\n"
        "p: !GenericPipeline\n"
        "  runs: [*b, *a]\n"
    )
    result = import_mldev(path)
    assert [d.code for d in result.diagnostics] == ["W0906"]
    assert edges(load_clean(result.text, tmp_path)) == {("a", "b")}


def test_names_are_sanitised_and_unique(tmp_path):
    path = tmp_path / "names.yml"
    path.write_text(
        "one: !BasicStage {name: 'in', script: [a]}\n"
        "two: !BasicStage {name: '2-step', script: [b]}\n"
        "three: !BasicStage {name: 'in', script: [c]}\n"
    )
    experiment = load_clean(import_mldev(path).text, tmp_path)
    assert stage_names(experiment) == ["in_", "stage_2_step", "in__2"]


def test_output_is_deterministic():
    first = import_mldev(DATA / "anchors.yml").text
    assert first == import_mldev(DATA / "anchors.yml").text


def test_paths_outside_the_project_are_data_sets_or_warnings(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    path = project / "experiment.yml"
    path.write_text(
        "a: !BasicStage\n"
        "  inputs: [/data/raw.csv, ../shared/vocab.txt]\n"
        "  outputs: [/tmp/result.txt, out.txt]\n"
        "  env: {BAD-NAME: x, GOOD: '${self.inputs[0].path}'}\n"
        "  script: ['python a.py ${self.inputs[1].path} ${self.outputs[0].path}']\n"
    )
    result = import_mldev(path)
    assert codes_at(result) == [("W0911", 3), ("W0910", 4)]
    experiment = load_clean(result.text, project)
    by_name = {d.name: d.uri for d in experiment.datasets}
    assert by_name == {"raw_csv": "/data/raw.csv",
                       "vocab_txt": (tmp_path / "shared" / "vocab.txt").as_posix()}
    [unit] = experiment.instances
    assert [(i.name, i.dataset) for i in unit.inputs] == [
        ("raw_csv", "raw_csv"), ("vocab_txt", "vocab_txt")]
    assert unit.env["GOOD"].value == "/data/raw.csv"
    assert "// TODO: output `/tmp/result.txt` is outside the project folder" in result.text
    # the output left out is still named, as text, where the script used it
    assert "python a.py ${in.vocab_txt} /tmp/result.txt" in result.text


def test_unknown_stage_fields_are_warnings_and_todos(tmp_path):
    path = tmp_path / "fields.yml"
    path.write_text("s: !BasicStage\n  name: s\n  comment: hello\n  script: [make]\n")
    result = import_mldev(path)
    assert codes_at(result) == [("W0909", 3)]
    assert "// TODO: field `comment` not translated" in result.text
    load_clean(result.text, tmp_path)


def test_a_shared_path_anchor_is_data_not_a_warning(tmp_path):
    path = tmp_path / "shared.yml"
    path.write_text(
        "data_dir: &data !path {path: ./data, files: [a.csv]}\n"
        "make: !BasicStage\n"
        "  outputs: [*data]\n"
        "  script: ['fetch > ${self.outputs[0].files[0]}']\n"
        "use: !BasicStage\n"
        "  inputs: [*data]\n"
        "  script: ['wc -l ${root.data_dir.path}/a.csv']\n"
    )
    result = import_mldev(path)
    assert result.diagnostics == []
    assert edges(load_clean(result.text, tmp_path)) == {("make", "use")}
    assert 'run = "fetch > ${out.data}/a.csv"' in result.text
    assert 'run = "wc -l ${in.data}/a.csv"' in result.text


def test_reading_what_a_later_stage_writes_is_not_a_cycle(tmp_path):
    path = tmp_path / "loop.yml"
    path.write_text(
        "a: &a !BasicStage\n"
        "  inputs: [!path {path: data/stats.json}]\n"
        "  outputs: [!path {path: data}]\n"
        "  script: [prepare]\n"
        "b: &b !BasicStage\n"
        "  inputs: [!path {path: data}]\n"
        "  outputs: [!path {path: data/stats.json}]\n"
        "  script: [summarise]\n"
        "p: !GenericPipeline\n"
        "  runs: [*a, *b]\n"
    )
    result = import_mldev(path)
    assert codes_at(result) == [("W0912", 2)]
    assert edges(load_clean(result.text, tmp_path)) == {("a", "b")}
    assert 'in stats_json = file("data/stats.json")' in result.text


def test_a_path_one_stage_lists_files_of_is_a_folder_for_every_stage(tmp_path):
    """One project has one thing at a path: a folder (it lists `files`) for
    one stage is not a file for another (`mlc check` compares with the disk)."""
    path = tmp_path / "kinds.yml"
    path.write_text(
        "a: &a !BasicStage\n"
        "  inputs: [!path {path: data/a.csv}]\n"
        "  script: [first]\n"
        "b: &b !BasicStage\n"
        "  inputs: [!path {path: data/a.csv, files: [f.txt]}]\n"
        "  script: [second]\n"
        "p: !GenericPipeline\n"
        "  runs: [*a, *b]\n"
    )
    text = import_mldev(path).text
    assert 'file("data/a.csv")' not in text
    assert text.count('dir("data/a.csv")') == 2
    load_clean(text, tmp_path)
