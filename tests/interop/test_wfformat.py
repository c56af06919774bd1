"""`mlc import wfformat`: hand-written 1.4 and 1.5 traces under
data/wfformat, instances WfCommons 1.6 generates, and broken files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy
import pytest
from checked import edges, load_clean, stage_names

from compiler.interop import SITES_FILE, import_wfformat

DATA = Path(__file__).parent / "data" / "wfformat"


def source_edges(instance: dict) -> set[tuple[str, str]]:
    """Task dependencies of a 1.5/1.6 instance: parents, children and files."""
    spec = instance["workflow"]["specification"]
    edges = set()
    producer = {}
    for task in spec["tasks"]:
        edges |= {(p, task["id"]) for p in task["parents"]}
        edges |= {(task["id"], c) for c in task["children"]}
        producer.update({f: task["id"] for f in task.get("outputFiles", [])})
    for task in spec["tasks"]:
        edges |= {(producer[f], task["id"]) for f in task.get("inputFiles", []) if f in producer}
    return edges


@pytest.fixture(scope="module", params=["MontageRecipe", "EpigenomicsRecipe", "BlastRecipe"])
def generated(request, tmp_path_factory) -> Path:
    """A ~60-task instance written by the installed WfCommons, seeded."""
    # WfCommons only generates these inputs (it is no dependency of mlc):
    # without the test extra they are skipped; .ci/test installs it.
    recipes = pytest.importorskip("wfcommons.wfchef.recipes")
    from wfcommons.wfgen import WorkflowGenerator

    random.seed(3)
    numpy.random.seed(3)
    recipe = getattr(recipes, request.param)
    workflow = WorkflowGenerator(recipe.from_num_tasks(60)).build_workflow()
    path = tmp_path_factory.mktemp("wfcommons") / f"{request.param}.json"
    workflow.write_json(path)
    return path


def test_generated_instance_keeps_tasks_dag_sizes_and_runtimes(generated, tmp_path):
    instance = json.loads(generated.read_text())
    assert instance["schemaVersion"] == "1.6"
    result = import_wfformat(generated)
    assert result.diagnostics == []
    assert result.sites_text is None
    experiment = load_clean(result.text, tmp_path)
    tasks = instance["workflow"]["specification"]["tasks"]
    # WfCommons task IDs are identifiers already
    assert stage_names(experiment) == [t["id"] for t in tasks]
    assert edges(experiment) == source_edges(instance)
    by_id = {i.id: i for i in experiment.instances}
    runtimes = {t["id"]: t["runtimeInSeconds"] for t in instance["workflow"]["execution"]["tasks"]}
    assert {i: by_id[i].estimate.default for i in runtimes} == pytest.approx(runtimes)
    sizes = {f["id"]: f["sizeInBytes"] for f in instance["workflow"]["specification"]["files"]}
    for unit in experiment.instances:
        for output in unit.outputs:
            assert output.size == sizes[output.path]
    first_file = instance["workflow"]["specification"]["files"][0]
    assert f'file("{first_file["id"]}", size = ' in result.text
    assert result.text.count("estimate = ") == len(tasks)


def test_version_1_4_trace(tmp_path):
    result = import_wfformat(DATA / "blast-1.4.json")
    assert result.diagnostics == []
    experiment = load_clean(result.text, tmp_path)
    assert stage_names(experiment) == [
        "split_fasta_00000001", "blastall_00000002", "blastall_00000003",
        "cat_blast_00000004", "report_00000005",
    ]
    assert edges(experiment) == {
        ("split_fasta_00000001", "blastall_00000002"),
        ("split_fasta_00000001", "blastall_00000003"),
        ("blastall_00000002", "cat_blast_00000004"),
        ("blastall_00000003", "cat_blast_00000004"),
        ("cat_blast_00000004", "report_00000005"),  # a parent, no file: `after`
    }
    text = result.text
    assert "after = [cat_blast_00000004]" in text
    assert 'in nt_db = file("nt.db", size = 1GiB)' in text
    assert "cpus = 4\n  memory = 2GiB\n  time = 4h\n  estimate = 2h" in text
    assert "estimate = 6900.25s" in text
    # arguments are shell-quoted, and `$` is doubled for mlx
    assert "run = \"blastall -i part-1.fasta -d 'nt db'\"" in text
    assert "run = \"echo 'cost: $$5'\"" in text


def test_version_1_5_trace_with_machines_as_a_site_catalog(tmp_path):
    path = DATA / "genome-1.5.json"
    result = import_wfformat(path, sites=True)
    assert result.diagnostics == []
    experiment = load_clean(result.text, tmp_path,
                            extra={SITES_FILE: result.sites_text})
    assert [s.name for s in experiment.sites] == ["cluster"]
    assert f'import "{SITES_FILE}"' in result.text
    assert edges(experiment) == {
        ("individuals_ID0000001", "individuals_merge_ID0000003"),
        ("individuals_ID0000002", "individuals_merge_ID0000003"),
        ("individuals_merge_ID0000003", "mutation_overlap_ID0000005"),
        ("sifting_ID0000004", "mutation_overlap_ID0000005"),
    }
    assert "experiment workflow_1000genome_trace {" in result.text
    assert "cpus = 2\n  time = 1m\n  estimate = 30s" in result.text  # 1.5 cores -> 2
    assert "partition cpu8_mem32GiB {\n    nodes = 2; cpus = 8; memory = 32GiB\n  }" \
        in result.sites_text
    assert "partition cpu64_mem256GiB {\n    nodes = 1; cpus = 64; memory = 256GiB\n  }" \
        in result.sites_text


def test_machine_without_memory_is_a_warning():
    result = import_wfformat(DATA / "blast-1.4.json", sites=True)
    [warning] = result.diagnostics
    assert (warning.code, warning.span.line) == ("W0916", 16)
    assert "nodes = 2; cpus = 16; memory = 64GiB" in result.sites_text


def test_synthetic_instance_sites_are_one_local_machine(generated, tmp_path):
    result = import_wfformat(generated, sites=True)
    load_clean(result.text, tmp_path, name=f"{generated.stem}.mlx",
               extra={SITES_FILE: result.sites_text})
    assert "site local : local {\n  cpus = 1\n  memory = 2GiB\n}" in result.sites_text


def test_malformed_json_is_an_error_with_a_position():
    result = import_wfformat(DATA / "malformed.json")
    assert result.text == ""
    [error] = result.diagnostics
    assert (error.code, error.span.line, error.span.column) == ("E0910", 8, 7)


def minimal(**changes) -> dict:
    instance = {
        "name": "w", "schemaVersion": "1.5",
        "workflow": {"specification": {"tasks": [
            {"name": "a", "id": "a", "parents": [], "children": ["b"],
             "inputFiles": [], "outputFiles": ["x"]},
            {"name": "b", "id": "b", "parents": ["a"], "children": [],
             "inputFiles": ["x"], "outputFiles": []},
        ], "files": [{"id": "x", "sizeInBytes": 10}]}},
    }
    instance.update(changes)
    return instance


@pytest.mark.parametrize("edit, code, line", [
    (lambda d: d.update(schemaVersion="1.3"), "E0911", 3),
    (lambda d: d.pop("name"), "E0912", 1),
    (lambda d: d["workflow"]["specification"]["tasks"][1].update(parents=["zz"]), "E0913", None),
    (lambda d: d["workflow"]["specification"]["files"][0].update(sizeInBytes="big"), "E0912",
     None),
    (lambda d: d["workflow"]["specification"]["tasks"][0].update(parents=["b"]), "E0914", None),
    (lambda d: d["workflow"]["specification"]["tasks"].append(
        d["workflow"]["specification"]["tasks"][0]), "E0912", None),
])
def test_invalid_instances_are_errors_not_crashes(tmp_path, edit, code, line):
    instance = minimal()
    edit(instance)
    path = tmp_path / "w.json"
    path.write_text(json.dumps(instance, indent=2))
    result = import_wfformat(path)
    [error] = result.diagnostics
    assert error.code == code and error.severity == "error" and result.text == ""
    assert error.span is not None
    if line is not None:
        assert error.span.line == line


def test_the_offending_value_is_pointed_at(tmp_path):
    instance = minimal()
    instance["workflow"]["specification"]["files"][0]["sizeInBytes"] = -1
    path = tmp_path / "w.json"
    path.write_text(json.dumps(instance, indent=2))
    [error] = import_wfformat(path).diagnostics
    lines = path.read_text().split("\n")
    assert lines[error.span.line - 1][error.span.column - 1:].startswith("-1")


def test_file_written_by_two_tasks_is_a_warning(tmp_path):
    instance = minimal()
    instance["workflow"]["specification"]["tasks"][1]["outputFiles"] = ["x"]
    path = tmp_path / "w.json"
    path.write_text(json.dumps(instance))
    result = import_wfformat(path)
    assert [d.code for d in result.diagnostics] == ["W0905"]
    assert "// TODO: `x` is already an output of task `a`" in result.text
    assert edges(load_clean(result.text, tmp_path)) == {("a", "b")}


def test_unreadable_file(tmp_path):
    assert [d.code for d in import_wfformat(tmp_path / "no.json").diagnostics] == ["E0901"]


def test_file_ids_become_paths_inside_the_work_tree(tmp_path):
    instance = minimal()
    spec = instance["workflow"]["specification"]
    spec["tasks"][0]["outputFiles"] = ["/scratch/run/x.dat"]
    spec["tasks"][1]["inputFiles"] = ["/scratch/run/x.dat", "../inputs/y.dat", "scratch/run/x.dat"]
    spec["files"] = [{"id": "/scratch/run/x.dat", "sizeInBytes": 10}]
    path = tmp_path / "w.json"
    path.write_text(json.dumps(instance))
    result = import_wfformat(path)
    assert result.diagnostics == []
    experiment = load_clean(result.text, tmp_path)
    [_, reader] = experiment.instances
    assert [i.source.path for i in reader.inputs if i.source] == [
        "__/inputs/y.dat", "scratch/run/x.dat.2"]
    assert experiment.instances[0].outputs[0].path == "scratch/run/x.dat"


def test_a_task_that_is_its_own_parent_is_a_cycle(tmp_path):
    instance = minimal()
    instance["workflow"]["specification"]["tasks"][0]["parents"] = ["a"]
    path = tmp_path / "w.json"
    path.write_text(json.dumps(instance))
    [error] = import_wfformat(path).diagnostics
    assert error.code == "E0914" and "a -> a" in error.message


def test_escaped_surrogates_become_characters(tmp_path):
    instance = minimal(name="w")
    instance["workflow"]["specification"]["tasks"][0]["outputFiles"] = ["x"]
    text = json.dumps(instance).replace('"name": "w"', '"name": "w\\ud83d\\ude00\\ud800"', 1)
    path = tmp_path / "w.json"
    path.write_text(text)
    result = import_wfformat(path)
    assert result.ok
    result.text.encode("utf-8")  # no lone surrogate left
    assert 'description = "w\U0001f600\ufffd"' in result.text
