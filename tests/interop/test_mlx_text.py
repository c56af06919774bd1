"""The .mlx text the importers write reads back, through the real front end,
as exactly what was meant."""

from __future__ import annotations

import pytest
from checked import load_clean
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.interop import mlx_text as T
from compiler.interop.names import NameAllocator, identifier, keywords


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n"), max_size=30))
def test_strings_round_trip(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("string")
    experiment = load_clean(f"param p: str = {T.string(text)}\n", folder)
    assert experiment.params["p"] == text


@pytest.mark.parametrize("text", [
    'say "hi" \\ there', "cost: $5 and ${not_a_param}", 'a """ b', "tab\there\nnext",
])
def test_tricky_strings_round_trip(tmp_path, text):
    assert load_clean(f"param p: str = {T.string(text)}\n", tmp_path).params["p"] == text


def test_a_block_string_holds_a_multi_line_command(tmp_path):
    command = 'python - <<\'PY\'\nprint("$HOME \\\\ ok")\nPY'
    stage = f"stage s {{\n  run = {T.string(command, block=True)}\n}}\n"
    [unit] = load_clean(stage, tmp_path).instances
    assert "".join(part.text for part in unit.command) == command


def test_block_falls_back_to_escapes_for_triple_quotes():
    assert T.string('a\n"""', block=True) == '"a\\n\\"\\"\\""'


@pytest.mark.parametrize("n_bytes, text", [
    (0, "0B"), (289, "289B"), (2048, "2KiB"), (10_000, "10KB"), (2 * 1024**3, "2GiB"),
    (9_167_646, "9167646B"),
])
def test_sizes_are_exact(n_bytes, text):
    assert T.size(n_bytes) == text


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (90, "90s"), (120, "2m"), (7200, "2h"), (1263.481, "1263.481s"), (172800, "2d"),
])
def test_durations_are_exact(seconds, text):
    assert T.duration(seconds) == text


def test_identifiers():
    assert identifier("make-features", "stage") == "make_features"
    assert identifier("2-step", "stage") == "stage_2_step"
    assert identifier("---", "stage") == "stage"
    assert identifier("in", "stage") == "in_"
    assert {"in", "out", "stage", "x", "true", "partition"} <= keywords()


def test_allocator_is_deterministic_and_unique():
    names = NameAllocator()
    assert [names.allocate(raw, "n") for raw in ["a", "a", "a-", "a_2", "a"]] == \
        ["a", "a_2", "a_3", "a_2_2", "a_4"]
