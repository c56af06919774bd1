"""Whatever the input, an importer returns diagnostics, never a traceback;
and whatever it translates without an error checks clean."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from checked import load_clean
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.interop import SITES_FILE, import_mldev, import_wfformat

_YAML_PIECES = [
    "!BasicStage ", "!GenericPipeline ", "!path ", "!MonitoringService ", "!Custom ",
    "!function f.py ", "&a ", "*a ", "&b ", "*b ", "<<: ", "name: ", "params: ", "env: ",
    "inputs: ", "outputs: ", "script: ", "runs: ", "stages: ", "path: ", "files: ", "s: ",
    "t: ", "p: ", "- ", "\n", "\n  ", "\n    ", "{", "}", "[", "]", ", ", "x", "data/f.txt",
    "${self.params.x}", "${root.s.outputs[0].path}", "${env.HOME}", "${self.inputs[0]}",
    "'", '"', "1", "2.5", "true", "null", "in", "$",
]

_SETTINGS = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _checks_clean_when_ok(result, folder, *, sites: bool = False) -> None:
    if result.ok and result.text:
        # A fresh project per example: the project files one example's inputs
        # needed must not be in the way of the next one's (a file there, a
        # folder here).
        project = Path(tempfile.mkdtemp(dir=folder))
        load_clean(result.text, project, extra={SITES_FILE: result.sites_text} if sites else None)


@_SETTINGS
@given(st.lists(st.sampled_from(_YAML_PIECES), max_size=40).map("".join))
def test_mldev_never_crashes(tmp_path, text):
    source = tmp_path / "experiment.yml"
    source.write_text(text)
    _checks_clean_when_ok(import_mldev(source), tmp_path)


_PATHS = ["data", "data/a.csv", "models/m.pkl", "out", "/abs/x", "../up/y", "data/sub/b.txt",
          "", "a b/c\"d", "${root.base}/z"]
_SCRIPTS = ["make ${self.params.n}", "cp ${self.inputs[0].path} ${self.outputs[0].path}",
            "echo ${root.base} ${env.HOME} $HOME", "x ${self.outputs[0].files[0]}",
            "${json(self.params)}", "a\nb <<'EOF'\n\"\"\"\nEOF", "", "run ${self.name}"]


@st.composite
def _mldev_documents(draw) -> str:
    """Stages over a small shared pool of paths, names and expressions, in a
    pipeline of random order: collisions, cycles and odd text are likely."""
    lines = ["base: 'b$'"]
    count = draw(st.integers(1, 5))
    names = []
    for index in range(count):
        name = draw(st.sampled_from(["train", "train", "in", "file", "local", "2x", "s-t"]))
        key = f"k{index}"
        names.append(key)
        lines += [f"{key}: &{key} !BasicStage", f"  name: {json.dumps(name)}",
                  f"  params: {{n: {draw(st.integers(0, 3))}, v: {json.dumps(draw(_VALUES))}}}"]
        for field in ("inputs", "outputs"):
            paths = draw(st.lists(st.sampled_from(_PATHS), max_size=3))
            files = draw(st.booleans())
            items = [f"!path {{path: {json.dumps(p)}{', files: [f.txt]' if files else ''}}}"
                     for p in paths]
            lines.append(f"  {field}: [{', '.join(items)}]")
        scripts = draw(st.lists(st.sampled_from(_SCRIPTS), max_size=3))
        lines.append(f"  script: [{', '.join(json.dumps(x) for x in scripts)}]")
    order = draw(st.permutations(names))
    lines += ["pipeline: !GenericPipeline", f"  runs: [{', '.join('*' + n for n in order)}]"]
    return "\n".join(lines) + "\n"


# Text without control characters: those are refused (E0904), tested below.
_VALUES = st.one_of(st.integers(), st.floats(), st.booleans(),
                    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=5),
                    st.lists(st.integers(), max_size=2), st.none())


@settings(_SETTINGS, max_examples=30)  # each example runs the whole front end
@given(_mldev_documents())
def test_mldev_pipelines_check_clean(tmp_path, text):
    source = tmp_path / "experiment.yml"
    source.write_text(text)
    result = import_mldev(source)
    # The one error such a document may earn: a path with a quote substituted
    # into a script line leaves shell that MLDev could not run either (E0905,
    # at the line). Anything else refused is an importer defect.
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert all(d.code == "E0905" and d.span is not None for d in errors), result.diagnostics
    _checks_clean_when_ok(result, tmp_path)


_FILES = ["a.txt", "b.txt", "/abs/c.dat", "../d", "e f", "a.txt/", "", "x" * 3]
_TASK_IDS = ["t1", "t2", "t-3", "in", "4"]


@st.composite
def _wfformat_instances(draw) -> dict:
    """A 1.5 or 1.4 instance over a small pool of task IDs and file names."""
    count = draw(st.integers(1, len(_TASK_IDS)))
    ids = _TASK_IDS[:count]
    references = st.lists(st.sampled_from(ids), max_size=2, unique=True)
    files = st.lists(st.sampled_from(_FILES), max_size=3, unique=True)
    runtime = st.none() | st.floats(0, 1e6) | st.integers(0, 10**6)
    tasks = [{"name": task_id, "id": task_id, "parents": draw(references),
              "children": draw(references), "inputFiles": draw(files),
              "outputFiles": draw(files), "runtime": draw(runtime),
              "cores": draw(st.none() | st.integers(1, 64) | st.floats(1, 8))}
             for task_id in ids]
    used = sorted({f for t in tasks for f in t["inputFiles"] + t["outputFiles"]})
    sizes = {f: draw(st.integers(0, 10**12)) for f in used}
    if draw(st.booleans()):
        return {"name": "w", "schemaVersion": "1.4", "workflow": {
            "executedAt": "x", "makespanInSeconds": 1, "tasks": [
                {"name": t["id"], "parents": t["parents"], "children": t["children"],
                 "files": [{"link": "input", "name": f, "sizeInBytes": sizes[f]}
                           for f in t["inputFiles"] if f]
                 + [{"link": "output", "name": f, "sizeInBytes": sizes[f]}
                    for f in t["outputFiles"] if f],
                 **({"runtimeInSeconds": t["runtime"]} if t["runtime"] is not None else {}),
                 **({"cores": t["cores"]} if t["cores"] is not None else {})}
                for t in tasks]}}
    return {"name": "w", "schemaVersion": draw(st.sampled_from(["1.5", "1.6"])), "workflow": {
        "specification": {
            "tasks": [{k: t[k] for k in ("name", "id", "parents", "children", "inputFiles",
                                         "outputFiles")} for t in tasks],
            "files": [{"id": f, "sizeInBytes": size} for f, size in sizes.items()]},
        "execution": {"makespanInSeconds": 1, "executedAt": "x", "tasks": [
            {"id": t["id"], "runtimeInSeconds": t["runtime"] or 0,
             **({"coreCount": t["cores"]} if t["cores"] is not None else {})}
            for t in tasks]}}}


@settings(_SETTINGS, max_examples=30)
@given(_wfformat_instances())
def test_wfformat_instances_check_clean(tmp_path, instance):
    source = tmp_path / "instance.json"
    source.write_text(json.dumps(instance))
    result = import_wfformat(source, sites=True)  # the implicit site may be too small
    assert {d.code for d in result.diagnostics if d.severity == "error"} <= {"E0912", "E0914"}, \
        result.diagnostics
    _checks_clean_when_ok(result, tmp_path, sites=True)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False)
    | st.sampled_from(["1.5", "1.4", "a", "b", "x", "input", "output", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["name", "id", "schemaVersion", "workflow", "specification",
                         "execution", "tasks", "files", "parents", "children", "inputFiles",
                         "outputFiles", "sizeInBytes", "runtimeInSeconds", "coreCount",
                         "machines", "link", "nodeName", "cpu", "command", "program"]),
        inner, max_size=5),
    max_leaves=25,
)


@_SETTINGS
@given(_JSON)
def test_wfformat_never_crashes(tmp_path, document):
    source = tmp_path / "instance.json"
    source.write_text(json.dumps(document))
    _checks_clean_when_ok(import_wfformat(source, sites=True), tmp_path, sites=True)


# --- hostile inputs (issue 18): limits, not crashes or hangs ----------------

def _errors(result) -> list:
    return [d for d in result.diagnostics if d.severity == "error"]


def _one_positioned_error(result, code: str) -> None:
    [error] = _errors(result)
    assert error.code == code, result.diagnostics
    assert error.span is not None and error.span.line >= 1, error


_STAGE = "s: &s !BasicStage\n  name: s\n  script: ['true']\npipeline: !GenericPipeline\n  runs: [*s]\n"


@pytest.mark.parametrize("text, line", [
    ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", 1),  # flow nesting
    ("".join("  " * i + f"k{i}:\n" for i in range(3000)), 100),  # block nesting
])
def test_mldev_deep_yaml_is_a_positioned_error(tmp_path, text, line):
    source = tmp_path / "experiment.yml"
    source.write_text(text)
    result = import_mldev(source)
    _one_positioned_error(result, "E0902")
    assert _errors(result)[0].span.line == line


def test_mldev_alias_bomb_is_refused_quickly(tmp_path):
    """Each level merges nine copies of the one before: 9^11 mappings once
    expanded. Reading it used to run for ever."""
    levels = "abcdefghijkl"
    text = "a: &a {x: 1}\n" + "".join(
        f"{c}: &{c} {{<<: [{', '.join([f'*{p}'] * 9)}]}}\n" for p, c in zip(levels, levels[1:]))
    source = tmp_path / "experiment.yml"
    source.write_text(text + _STAGE.replace("  script", "  params: *l\n  script"))
    result = import_mldev(source)
    _one_positioned_error(result, "E0903")
    assert "alias" in _errors(result)[0].message


def test_mldev_shared_anchors_within_the_limit_are_fine(tmp_path):
    source = tmp_path / "experiment.yml"
    source.write_text("base: &b {x: 1}\nother: *b\n" + _STAGE)
    assert import_mldev(source).ok


@pytest.mark.parametrize("digits", [25, 5000])
def test_mldev_huge_integers_are_a_warning_and_the_output_checks(tmp_path, digits):
    source = tmp_path / "experiment.yml"
    source.write_text("s: &s !BasicStage\n  name: s\n  params: {n: " + "7" * digits + "}\n"
                      "  script: ['true']\npipeline: !GenericPipeline\n  runs: [*s]\n")
    result = import_mldev(source)
    assert result.ok and any(d.code == "W0907" for d in result.diagnostics), result.diagnostics
    load_clean(result.text, tmp_path)


@pytest.mark.parametrize("escape", ["\\0", "\\x1b", "\\r", "\\x7f"])
def test_mldev_control_characters_are_errors(tmp_path, escape):
    source = tmp_path / "experiment.yml"
    source.write_text(_STAGE.replace("'true'", f'"echo {escape}"'))
    _one_positioned_error(import_mldev(source), "E0904")


@pytest.mark.parametrize("text, code", [
    ("[" * 100_000 + "]" * 100_000, "E0910"),
    ('{"name": "w", "schemaVersion": "1.5", "workflow": {"x": ' + "1" * 5000 + "}}", "E0910"),
    ('{"name": "w", "schemaVersion": "1.5", "workflow": {"x": 99999999999999999999}}', "E0910"),
    ('{"name": "w", "schemaVersion": "1.5", "workflow": {"x": 1e400}}', "E0910"),
    ('{"name": "w", "schemaVersion": "1.5", "workflow": {"x": NaN}}', "E0910"),
    ('{"name": "w", "schemaVersion": "1.5", "workflow": {"x": -Infinity}}', "E0910"),
    ('{"name": "w\\u0000", "schemaVersion": "1.5", "workflow": {}}', "E0904"),
    ('{"name": "w", "schemaVersion": "1.5", "workflow": {"k\\u001b": 1}}', "E0904"),
])
def test_wfformat_hostile_json_is_a_positioned_error(tmp_path, text, code):
    source = tmp_path / "instance.json"
    source.write_text(text)
    _one_positioned_error(import_wfformat(source), code)


@_SETTINGS
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=20))
def test_mldev_any_script_text_checks_clean_or_is_refused(tmp_path, text):
    source = tmp_path / "experiment.yml"
    source.write_text(_STAGE.replace("'true'", json.dumps(text)))
    result = import_mldev(source)
    assert all(d.span is not None for d in _errors(result)), result.diagnostics
    _checks_clean_when_ok(result, tmp_path)


def test_a_control_character_in_the_file_name_does_not_reach_the_output(tmp_path):
    mldev = tmp_path / "exp\x1b[2Jname.yml"
    mldev.write_text(_STAGE)
    result = import_mldev(mldev)
    assert result.ok and "\x1b" not in result.text, result.diagnostics
    load_clean(result.text, tmp_path)
    wf = tmp_path / "wf\x07.json"
    wf.write_text(json.dumps({"name": "w", "schemaVersion": "1.5", "workflow": {
        "specification": {"tasks": [], "files": []},
        "execution": {"makespanInSeconds": 1, "executedAt": "x", "tasks": []}}}))
    result = import_wfformat(wf, sites=True)
    assert result.ok and "\x07" not in result.text + (result.sites_text or ""), result.diagnostics
