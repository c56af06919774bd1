"""The peers' inputs must describe the same DAG as the WfFormat instance:
otherwise the comparison measures different work."""

from __future__ import annotations

import WDL
from suite import to_snakefile, to_wdl
from suite.dag import from_document

# a -> b (through file x), a -> c (ordering only), b, c -> d; `in` is a source file.
INSTANCE = {
    "name": "tiny", "schemaVersion": "1.5",
    "workflow": {
        "specification": {
            "tasks": [
                {"name": "split", "id": "a", "parents": [], "children": ["b", "c"],
                 "inputFiles": ["in"], "outputFiles": ["x"]},
                {"name": "work", "id": "b", "parents": ["a"], "children": ["d"],
                 "inputFiles": ["x"], "outputFiles": ["y"]},
                {"name": "work", "id": "c", "parents": ["a"], "children": ["d"],
                 "inputFiles": [], "outputFiles": ["z"]},
                {"name": "merge", "id": "d", "parents": ["b", "c"], "children": [],
                 "inputFiles": ["y", "z"], "outputFiles": ["out"]},
            ],
            "files": [{"id": f, "sizeInBytes": 1} for f in ("in", "x", "y", "z", "out")],
        },
    },
}


def test_dag_knows_sources_sinks_and_ordering_edges():
    dag = from_document(INSTANCE)
    assert dag.sources == ("in",)
    assert dag.sinks() == ["out"]
    assert [dag.order_only_parents(t) for t in dag.tasks] == [[], [], ["a"], []]


def test_wdl_has_one_task_per_kind_and_one_call_per_task(tmp_path):
    path = to_wdl.write(from_document(INSTANCE), tmp_path)
    doc = WDL.load(str(path))
    assert sorted(t.name for t in doc.tasks) == ["K_merge", "K_split", "K_work"]
    calls = {c.name: c for c in doc.workflow.body}
    assert sorted(calls) == ["C_a", "C_b", "C_c", "C_d"]
    # miniwdl resolves each call's dependencies: the same edges as the instance.
    depends = {name: sorted(d.split("-", 1)[1] for d in call.workflow_node_dependencies
                            if d.startswith("call-"))
               for name, call in calls.items()}
    assert depends == {"C_a": [], "C_b": ["C_a"], "C_c": ["C_a"], "C_d": ["C_b", "C_c"]}


def test_snakefile_has_one_rule_per_task_wired_by_files(tmp_path):
    path = to_snakefile.write(from_document(INSTANCE), tmp_path)
    assert (tmp_path / "inputs" / "in").exists()  # a dry run needs the source files
    text = path.read_text()
    assert text.count("\nrule ") + text.startswith("rule ") == 5  # `all` and four tasks
    assert "rule r_c:\n    input: 'data/x'\n" in text  # the ordering edge a -> c, through a's output
    assert "rule all:\n    input: 'data/out'\n" in text
