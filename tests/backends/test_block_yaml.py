"""The manifests' YAML writer (compiler/backends/kubernetes/block_yaml.py)
writes exactly PyYAML's bytes for the manifest writer's options, on random
nested documents of hostile strings; what it leaves to PyYAML it says so
(Unsupported), and the manifest writer then uses PyYAML."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from compiler.backends.kubernetes import block_yaml, serialise

_OPTIONS = serialise._DUMP_OPTIONS


def _pyyaml(data) -> str:
    return yaml.dump(data, Dumper=serialise._ManifestDumper, **_OPTIONS)


def _ours(data) -> str | None:
    try:
        return serialise._write_block()(data)
    except block_yaml.Unsupported:
        return None


# Characters that change a scalar's style or its folding.
_HOSTILE = list("\"'#:-?&*!|>%@`,[]{}~ \t\n\r\\/=.+0123456789aeEnoyYxX_") + [
    "\x85", "\u2028", "\u2029", "\x00", "\x07", "\x1b", "\xa0", "é", "ß", "日", "本", "\ufeff", "\U0001f600",
    "\ud7ff", "\ue000", "\ufffe",
]
_WORDS = ["", "yes", "no", "Yes", "NO", "on", "Off", "true", "False", "null", "Null", "~", "y", "n",
          "0", "-1", "+1", "0x1f", "0o17", "017", "1_000", "1.5", "-.5", ".inf", "-.Inf", ".nan", "1e3",
          "6.02e+23", "1:20", "190:20:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "=", "<<",
          "---", "...", "--- x", "... x", "- ", "-", "-x", "? x", "?x", ": x", ":x", "x:", "x: y",
          "x #y", "x#y", "#x", "a b", "a  b", " a", "a ", "a\n", "a\nb", "\na", "a\n\n", "\n", "\n\n",
          "a \nb", "a\n b", "a\n\tb", "it's", "'", "''", '"', "a'b c'd", "|", ">", "%x", "@x", "`x",
          "&a", "*a", "!x", "!!str", "[a]", "{a: b}", "a,b", "http://x.y/z?q=1#f", "python:3.11",
          "$(HOME)", "$$x", "echo 'a b' | tr a b # c"]

_strings = st.one_of(
    st.sampled_from(_WORDS),
    st.text(alphabet=st.sampled_from(_HOSTILE), max_size=24),
    st.lists(st.sampled_from(_WORDS + ["word", "a-much-longer-word-of-text", "x" * 40]),
             min_size=1, max_size=40).map(" ".join),  # folds at the width
    st.lists(st.text(alphabet=st.sampled_from(list("ab '#:-\n ")), max_size=30), max_size=5).map("\n".join),
    st.text(max_size=12),
)
_scalars = st.one_of(_strings, st.integers(), st.booleans(), st.none())
_keys = st.one_of(st.sampled_from(["name", "apiVersion", "kind", "metadata", "spec", "app.kubernetes.io/name",
                                   "yes", "null", "1", "", "a b", "x" * 130]), _strings)
_documents = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_keys, inner, max_size=5)),
    max_leaves=40,
)


@settings(max_examples=600, deadline=None)
@given(_documents)
@example({"a": "x " * 60, "b": [{"c": "it's " * 30}]})
@example({"a": "a\n\n"})
@example({"a": [[], {}, [[1, None, True]]]})
@example({"k" * 122: 1, "k" * 123: 2, "k'" * 61: 3})  # a simple key's length counts its tag, !!str
def test_writes_pyyaml_bytes_or_declines(document):
    expected = _pyyaml(document)
    ours = _ours(document)
    if ours is not None:
        assert ours == expected
    assert serialise.manifest_yaml(document) == expected


# Strings PyYAML writes without double quotes, mostly: documents the writer
# takes itself, rather than leaving them to PyYAML.
_printable = st.one_of(
    st.sampled_from([w for w in _WORDS if "\t" not in w]),
    st.text(alphabet=st.sampled_from(list("\"'#:-?&*!|>%@`,[]{}~ \n/=.+09aenoy_") + ["é", "日"]), max_size=30),
    st.lists(st.sampled_from(["a", "it's", "#", "x:", "- y", "word" * 5]), min_size=1, max_size=60).map(" ".join),
)
_printable_documents = st.recursive(
    st.one_of(_printable, st.integers(), st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_printable, inner, max_size=5)),
    max_leaves=40,
)


@settings(max_examples=600, deadline=None)
@given(_printable_documents)
def test_writes_pyyaml_bytes_for_printable_documents(document):
    ours = _ours(document)
    if ours is not None:
        assert ours == _pyyaml(document)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_documents, _printable_documents))
def test_safe_dump_s_bytes_for_the_kustomizations(document):
    expected = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    try:
        assert serialise._write_safe()(document) == expected
    except block_yaml.Unsupported:
        pass
    assert serialise.safe_yaml(document) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(_strings, min_size=1, max_size=8), st.integers(min_value=0, max_value=6))
def test_every_string_at_every_depth(strings, depth):
    # The same strings as values, keys and items at some depth: folding and
    # block indentation depend on the column.
    document: object = {"k": strings, **{s: s for s in strings}}
    for level in range(depth):
        document = {"level": document} if level % 2 else [document, {"m": document}]
    ours = _ours(document)
    if ours is not None:
        assert ours == _pyyaml(document)


def test_it_writes_manifest_shaped_documents_itself():
    # What the client's serialiser gives: the writer must not fall back there.
    job = {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "exp-train-0", "labels": {"app.kubernetes.io/name": "mlc", "mlc/run": "1"}},
        "spec": {"backoffLimit": 0, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "python:3.11", "command": ["bash", "-c"],
                            "args": ["set -eu\necho 'hello world' > /work/out.txt\n"],
                            "env": [{"name": "N", "value": "1"}, {"name": "E", "value": ""}],
                            "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}}}],
            "volumes": [{"name": "work", "persistentVolumeClaim": {"claimName": "w"}}],
            "securityContext": {}, "tolerations": [], "suspend": False, "x": None}}},
    }
    assert _ours(job) == _pyyaml(job)


def test_it_declines_what_it_does_not_write():
    shared: dict = {"a": 1}
    for document in [{"a": "x\u2028y"}, {"a": "tab\there"}, {1: "a"}, {"a": 1.5}, {"a\nb": 1},
                     {"a": [shared, shared]}, {"a": "x\n "}, "scalar", {}, [], {"a": ("t",)}]:
        assert _ours(document) is None, document
        assert serialise.manifest_yaml(document) == _pyyaml(document)


@pytest.mark.parametrize("allow_unicode", [True, False])
@settings(max_examples=1000, deadline=None)
@given(text=st.one_of(_strings, st.text(alphabet=st.sampled_from(_HOSTILE), max_size=6), st.text()))
@example(text="a:")
@example(text="a :")
@example(text="a:\n")
@example(text="-")
@example(text="a\x00#")
def test_analysis_is_pyyaml_s(text, allow_unicode):
    emitter = yaml.emitter.Emitter(None, allow_unicode=allow_unicode)
    theirs = emitter.analyze_scalar(text)
    assert block_yaml.analyze(text, allow_unicode) == (
        theirs.empty, theirs.multiline, theirs.allow_block_plain, theirs.allow_single_quoted, theirs.allow_block)
