"""The cache key changes when, and only when, something that can change a
result changes: the command, the image, the environment, a param the
command uses, an input's content. Not when comments or layout of the .mlx,
an unrelated stage, resources, the description or the output folder change.

The compile-time half (backends/cache_recipe) is checked on real sources
through the front end and the placer; the run-time half (runner/step_cache)
on real files."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.backends import cache_recipe
from compiler.frontend import load
from compiler.placement import place
from compiler.runner import step_cache
from tests.conftest import ROOT

# What can change a result, and what cannot.
RELEVANT = {
    "command": ["echo ${base} > ${out.o}", "echo  ${base} > ${out.o}", "printf '%s' ${base} > ${out.o}"],
    "image": ["", 'image = "docker://a:1"', 'image = "docker://b:2"'],
    "env": ['"x"', '"y"'],
    "base": ["1", "2", "10"],
}
IRRELEVANT = {
    "comment": ["", "// a comment\n", "// another\n// two lines\n"],
    "indent": ["  ", "    "],
    "blank": ["", "\n\n"],
    "other": ["", 'stage other {\n  out p = file("p.txt", size = 1KB)\n  cpus = 1\n  memory = 64MiB\n'
                  '  time = 1m\n  estimate = 1s\n  run = "echo ${base} > ${out.p}"\n}\n'],
    "cpus": ["1", "2"],
    "description": ["one", "two"],
}

SOURCE = """{comment}experiment e {{ description = "{description}" }}
{blank}
param base: int = {base}

site here : local {{ cpus = 2  memory = 1GiB }}
{other}
stage s {{
{indent}out o = file("o.txt", size = 1KB)
{indent}{image}
{indent}env = {{MODE: {env}}}
{indent}cpus = {cpus}
{indent}memory = 64MiB
{indent}time = 1m
{indent}estimate = 1s{blank}
{indent}{comment}
{indent}run = "{command}"
}}

stage t {{
  in o = s.o
  out q = file("q.txt", size = 1KB)
  cpus = 1
  memory = 64MiB
  time = 1m
  estimate = 1s
  run = "cat ${{in.o}} > ${{out.q}}"
}}
"""

CHOICES = {**RELEVANT, **IRRELEVANT}
variants = st.fixed_dictionaries({name: st.sampled_from(options) for name, options in CHOICES.items()})


def recipes(choice: dict[str, str]) -> dict[str, str]:
    """unit -> the compile-time key of the experiment `choice` describes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "e.mlx"
        path.write_text(SOURCE.format(**choice), encoding="utf-8")
        experiment, diags, _ = load(str(path))
    assert experiment is not None and not diags.has_errors, [d.message for d in diags.sorted()]
    plan = place(experiment)
    return {unit: cache_recipe.recipe(experiment, plan, unit)["recipe"] for unit in ("s", "t")}


@settings(max_examples=40, deadline=None)
@given(variants, variants)
def test_the_compile_time_key_follows_exactly_what_can_change_a_result(a, b):
    same_result = all(a[name] == b[name] for name in RELEVANT)
    assert (recipes(a)["s"] == recipes(b)["s"]) == same_result
    # The consumer's own recipe does not change: its input's key will.
    assert recipes(a)["t"] == recipes(b)["t"]


def test_the_output_folder_changes_no_script(tmp_path):
    """The key's compile-time half is in the scripts: compiled into two
    output folders, they are byte for byte the same."""
    choice = {name: options[0] for name, options in CHOICES.items()}
    source = tmp_path / "e.mlx"
    source.write_text(SOURCE.format(**choice), encoding="utf-8")
    scripts = []
    for out in ("one", "two/deeper"):
        result = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", str(source), "-o", str(tmp_path / out)],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        scripts.append((tmp_path / out / "e/local/here/s.sh").read_text(encoding="utf-8"))
    assert scripts[0] == scripts[1] and "recipe=" in scripts[0]


RECIPE = {"recipe": "r" * 64, "step": "t", "parts": {}, "outputs": [],
          "inputs": [{"name": "o", "position": 0, "kind": "output", "path": "o.txt"}]}


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=64), st.binary(max_size=64), st.integers(0, 10**9))
def test_the_run_time_key_follows_an_input_content_not_its_mtime(first, second, mtime):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "o.txt"
        path.write_bytes(first)
        before = step_cache.step_key({**RECIPE, "inputs": [{**RECIPE["inputs"][0], "path": str(path)}]},
                                     step_cache.input_keys({**RECIPE, "inputs": [{**RECIPE["inputs"][0],
                                                                                   "path": str(path)}]}))
        path.write_bytes(second)
        os.utime(path, ns=(mtime, mtime))
        spec = {**RECIPE, "inputs": [{**RECIPE["inputs"][0], "path": str(path)}]}
        after = step_cache.step_key(spec, step_cache.input_keys(spec))
    assert (before == after) == (first == second)


@given(st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), st.binary(max_size=16), max_size=4),
       st.from_regex(r"[a-z]{1,5}", fullmatch=True), st.binary(max_size=16))
@settings(max_examples=40, deadline=None)
def test_a_directory_key_changes_with_any_file_in_it(files, name, content):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "d"
        root.mkdir()
        for file_name, data in files.items():
            (root / file_name).write_bytes(data)
        before = step_cache.content_key(root)
        (root / name).write_bytes(content)
        after = step_cache.content_key(root)
    assert (before == after) == (files.get(name) == content)


def test_a_data_set_is_keyed_by_its_uri_size_and_mtime(tmp_path):
    data = tmp_path / "big.bin"
    data.write_bytes(b"12345")
    os.utime(data, ns=(1, 1))
    key = step_cache.dataset_key("/datasets/big", data, None)
    data.write_bytes(b"54321")  # same size
    os.utime(data, ns=(1, 1))
    assert step_cache.dataset_key("/datasets/big", data, None) == key  # not read: documented limit
    os.utime(data, ns=(2, 2))
    assert step_cache.dataset_key("/datasets/big", data, None) != key
    assert step_cache.dataset_key("/datasets/other", data, None) != step_cache.dataset_key("/datasets/big", data, None)
    assert step_cache.dataset_key("s3://b/k", tmp_path / "absent", "sha256:abc") == "checksum:sha256:abc"


def test_the_code_the_command_runs_is_in_the_key(tmp_path, monkeypatch):
    """A changed file of the experiment's `code` list (shipped to every site)
    changes every stage's key, and `mlc run` says so: the command runs it."""
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools/make.py").write_text("print(1)\n")
    source = tmp_path / "e.mlx"
    source.write_text(SOURCE.format(**{name: options[0] for name, options in CHOICES.items()})
                      .replace('experiment e { description = "one" }',
                               'experiment e { description = "one"\n  code = ["tools"] }'), encoding="utf-8")
    experiment, diags, _ = load(str(source))
    assert experiment is not None and not diags.has_errors, [d.message for d in diags.sorted()]
    recipe = cache_recipe.recipe(experiment, place(experiment), "s")
    assert {"name": cache_recipe.CODE, "position": 0, "kind": "project", "path": "tools"} in recipe["inputs"]
    monkeypatch.chdir(tmp_path)  # the work tree: the code is at its project path there
    before = step_cache.step_key(recipe, step_cache.input_keys(recipe))
    (tmp_path / "tools/__pycache__").mkdir()  # what Python writes itself on an import is not the code
    (tmp_path / "tools/__pycache__/make.cpython-311.pyc").write_bytes(b"\0")
    assert step_cache.step_key(recipe, step_cache.input_keys(recipe)) == before
    (tmp_path / "tools/make.py").write_text("print(2)\n")
    assert step_cache.step_key(recipe, step_cache.input_keys(recipe)) != before
    (tmp_path / "o.txt").write_text("x")  # the result of the run with the old code
    step_cache.store(before, recipe, {**step_cache.input_keys(recipe), f"{cache_recipe.CODE}#0": "old"}, 0.0)
    assert step_cache.why_not_cached(recipe, step_cache.input_keys(recipe)) == "code changed"
