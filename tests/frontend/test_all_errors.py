"""One run reports every independent error, in source order; a declaration
with an error is poisoned, so what depends on it is skipped, not reported
again (no cascades)."""

from __future__ import annotations

import functools
import textwrap

import pytest
from hypothesis import given, settings, strategies as st

from compiler.frontend import load


def _report(tmp_path, text: str) -> list[tuple[int, str]]:
    path = tmp_path / "exp.mlx"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    experiment, diags, _ = load(str(path))
    found = [(d.span.line if d.span else 0, d.code) for d in diags.sorted()]
    assert experiment is None or not found
    return found


MANY = """
    site ws : local { cpus = 4; memory = 8GiB }
    site hpc : slurm {
      acount = "proj"
      partition gpu { nodes = 2; cpus = 48; memory = 768GiB; gpus = 4 x a100; max_time = 24h }
    }
    dataset raw { uri = "/data/raw"; size = 10GB; at = ws }
    stage prep {
      in data = raww
      out o = file("prep/o")
      memory = 4Gib
      estimate = {a10: 1h, hpc.cpu: 2h, a100: 3h}
      run = "prep ${in.data} > ${out.o}"
    }
    stage train for lr in [0.1, 0.1] {
      in x = prep.o
      out ckpt = file("t/${lr}")
      cpus = "many"
      run = "train ${lr} ${in.x} > ${out.ckpt}"
    }
    stage a { in x = b.o; out o = file("a/o"); run = "a ${in.x} ${out.o}" }
    stage b { in x = a.o; out o = file("b/o"); run = "b ${in.x} ${out.o}" }
    stage big { memory = 64GiB; on = ws; run = "big" }
    stage uses { in m = train.ckpt; after = [prep]; run = "use ${in.m}" }
    """


def test_independent_errors_across_passes_in_one_run(tmp_path):
    assert _report(tmp_path, MANY) == [
        (3, "E0301"),  # unknown field (the site itself is fine)
        (8, "E0202"),  # unknown data set
        (10, "E0304"),  # unknown unit
        (11, "E0306"), (11, "E0306"),  # both unknown estimate keys, not one per run
        (14, "E0506"),  # a sweep that repeats a member...
        (17, "E0303"),  # ...and the body of that stage is still checked
        (21, "E0601"),  # a cycle (shown where it closes)
        (22, "E0701"),  # a stage no site can run
    ]


def test_a_poisoned_param_does_not_cascade(tmp_path):
    assert _report(tmp_path, """
        param lr: float = "fast"
        param lrs: list[float] = [0.1, "x"]
        stage a for v in lrs { out o = file("o/${v}"); cpus = lr; run = "t ${lr} ${v} ${out.o}" }
        stage b { in i = a.o; run = "t --lr=${lr} ${in.i}" }
        """) == [(1, "E0303"), (2, "E0303")]


def test_an_undefined_name_does_not_cascade_into_feasibility(tmp_path):
    # Without `mem`, the stage would ask for the default 2 GiB, which no pool has:
    # that follows from the first error, so it is not reported.
    assert _report(tmp_path, """
        site ws : local { cpus = 4; memory = 1GiB }
        stage a { memory = mem; out o = file("o"); run = "t > ${out.o}" }
        stage b { in i = a.o; run = "t ${in.i} ${undefined}" }
        """) == [(2, "E0202"), (3, "E0503")]


def test_an_unknown_template_does_not_cascade_but_the_body_is_checked(tmp_path):
    assert _report(tmp_path, """
        stage s : Nosuch(x = 1) { out o = file("o"); memroy = 1GiB }
        stage t { in i = s.o; in j = s.anything; run = "t ${in.i} ${in.j}" }
        """) == [(1, "E0206"), (1, "E0301")]


def test_a_template_with_a_bad_argument_still_checks_the_stage(tmp_path):
    assert _report(tmp_path, """
        template Train(lr: float) : stage { out ckpt = file("ckpt/${lr}"); run = "train ${lr} > ${out.ckpt}" }
        stage s : Train(lr = "high") { cpus = 0 }
        stage t { in i = s.ckpt; run = "t ${in.i}" }
        """) == [(2, "E0303"), (2, "E0306")]


def test_a_poisoned_site_or_pool_is_not_unknown_later(tmp_path):
    assert _report(tmp_path, """
        site hpc : slurmm { partition gpu { cpus = 4; memory = 8GiB } }
        site k8s : kubernetes { pool gpu { cpus = 4; memory = 8Gib } }
        dataset d { uri = "/d"; at = hpc }
        link hpc <-> k8s { bandwidth = 1Gbps }
        stage a { in x = d; on = hpc; estimate = {hpc: 1h}; run = "a ${in.x}" }
        stage b { on = k8s.gpu; not_on = [hpc]; estimate = {k8s.gpu: 1h}; run = "b" }
        stage c { memory = 1TiB; run = "c" }
        """) == [(1, "E0308"), (2, "E0304")]


def test_every_unknown_port_and_every_bad_field_of_a_unit(tmp_path):
    assert _report(tmp_path, """
        site ws : local { cpus = 4; memory = 8GiB }
        stage a {
          run = "x ${in.nope} ${out.nada}"
          env = {"1x": "v"}
          on = nowhere
          not_on = [ws.pool]
          estimate = 3GiB
          out o = file("/abs")
        }
        stage b { in i = a.o; after = [a]; run = "b ${in.i}" }
        """) == [(3, "E0504"), (3, "E0504"), (4, "E0306"), (5, "E0204"), (6, "E0205"), (7, "E0305"),
                 (8, "E0310")]


def test_every_bad_value_of_a_map(tmp_path):
    assert _report(tmp_path, """
        site k8s : kubernetes { pool p { cpus = 4; memory = 8GiB; selector = {"a": 1, "b": "ok", "c": 2} } }
        """) == [(1, "E0303"), (1, "E0303")]


def test_a_bad_path_and_a_bad_size_of_one_port(tmp_path):
    assert _report(tmp_path, """
        stage a { out o = file("/abs", size = 3h); out p = file("s3://b/p", sise = 1GB); run = "t" }
        """) == [(1, "E0310"), (1, "E0305"), (1, "E0314"), (1, "E0310")]


def test_reading_an_output_a_service_declares_is_an_error_of_its_own(tmp_path):
    # The service's `out` port is one error; a stage reading it is another,
    # not bound as if the service were a stage (graph.build_graph's fast path).
    assert _report(tmp_path, """
        site ws : local { cpus = 4; memory = 8GiB }
        service api { image = "nginx"; port = 80; out log = file("api.log") }
        stage probe { in x = api.log; run = "true" }
        """) == [(2, "E0310"), (3, "E0604")]


def test_two_independent_cycles_are_both_reported(tmp_path):
    assert _report(tmp_path, """
        stage a { after = [b]; run = "a" }
        stage b { after = [a]; run = "b" }
        stage c { after = [d]; run = "c" }
        stage d { after = [c]; run = "d" }
        stage e { after = [a, c]; run = "e" }
        """) == [(2, "E0601"), (4, "E0601")]


def test_the_body_of_a_second_declaration_is_checked_too(tmp_path):
    assert _report(tmp_path, """
        stage a { run = "a" }
        stage a { memroy = 1GiB; run = "a" }
        service a { image = "x"; port = 0 }
        """) == [(2, "E0201"), (2, "E0301"), (3, "E0201"), (3, "E0306")]


def test_an_unused_template_is_checked(tmp_path):
    assert _report(tmp_path, """
        template T(lr: flaot, n: int = 2) : stage {
          memroy = 1GiB
          out o = file("/o/${lr}")
          out m = file("m", size = 2h)
          run = "t ${lr} ${n} ${in.data} > ${out.o}"
        }
        template S() : service { port = 0 }
        template Used(x: int) : stage { run = "t ${x}" }
        stage u : Used(x = 1) { }
        """) == [(1, "E0312"), (2, "E0301"), (4, "E0305"), (7, "E0306")]


def test_a_sweep_after_itself_is_one_error(tmp_path):
    assert _report(tmp_path, """
        stage a for x in [1, 2, 3] { after = [a]; run = "a ${x}" }
        """) == [(1, "E0601")]


def test_a_cycle_does_not_hide_feasibility(tmp_path):
    assert _report(tmp_path, """
        site ws : local { cpus = 4; memory = 8GiB }
        stage a { after = [b]; run = "a" }
        stage b { after = [a]; run = "b" }
        stage big { cpus = 64; run = "big" }
        """) == [(3, "E0601"), (4, "E0701")]


# --- independent mistakes add up ------------------------------------------------------------

CLEAN = """\
experiment exp { objective = makespan }
param epochs: int = 3
param lrs: list[float] = [0.1, 0.01]
secret token { env = "TOKEN" }
site ws : local { cpus = 8; memory = 32GiB }
site hpc : slurm {
  account = "proj"
  partition gpu { nodes = 2; cpus = 48; memory = 768GiB; gpus = 4 x a100; max_time = 24h }
}
link ws <-> hpc { bandwidth = 1Gbps }
dataset raw { uri = "/data/raw"; size = 10GB; at = ws }
template Train(lr: float, epochs: int = 3) : stage {
  out ckpt = file("ckpt/${lr}.pt", size = 1GB)
  run = "train --lr ${lr} --epochs ${epochs} > ${out.ckpt}"
}
stage prep {
  in data = raw
  out split = file("split/index.json")
  memory = 4GiB
  estimate = {ws: 10m, hpc.gpu: 5m}
  run = "prep ${in.data} > ${out.split}"
}
stage train : Train(lr = 0.1) { in split = prep.split; on = hpc }
stage sweep for lr in lrs, seed in [1, 2] {
  in split = prep.split
  out m = file("sweep/${lr}/${seed}.pt")
  env = {TOKEN: token, MODE: "fast"}
  run = "fit ${in.split} ${lr} ${seed} > ${out.m}"
}
stage big { memory = 16GiB; on = ws; run = "big" }
stage last { in m = sweep.m; after = [train]; run = "eval ${in.m}" }
service api { image = "nginx"; port = 8080; on = ws }
stage c1 { after = [c0]; run = "c1" }
stage c0 { run = "c0" }
"""

# Each replaces text on one line with a mistake that, alone, is reported; no
# mutation touches what another one's check depends on.
MUTATIONS = [
    ("objective = makespan", "objective = fastest"),  # E0306
    ("param epochs: int = 3", 'param epochs: int = "3"'),  # E0303
    ("[0.1, 0.01]", '[0.1, "x"]'),  # E0303, and the sweep over `lrs` is poisoned
    ('account = "proj"', 'acount = "proj"'),  # E0301
    ("bandwidth = 1Gbps", "bandwidth = 1GB"),  # E0305
    ('file("ckpt/${lr}.pt"', 'file("s3://ckpt/${lr}.pt"'),  # E0314
    ("in data = raw", "in data = raww"),  # E0202
    ("memory = 4GiB", "memory = 4Gib"),  # E0304
    ("{ws: 10m", "{wz: 10m"),  # E0306
    ("hpc.gpu: 5m", "hpc.gpx: 5m"),  # E0306
    ("Train(lr = 0.1)", 'Train(lr = "x")'),  # E0303
    ("seed in [1, 2]", "seed in [1, 1]"),  # E0506
    ('MODE: "fast"', '"1M": "fast"'),  # E0306
    ("fit ${in.split}", "fit ${in.splt}"),  # E0504
    ("memory = 16GiB", "memory = 64GiB"),  # E0701
    ("after = [train]", "after = [trian]"),  # E0202
    ("port = 8080", "port = 80800"),  # E0306
    ('stage c0 { run = "c0" }', 'stage c0 { after = [c1]; run = "c0" }'),  # E0601
]


def _errors_of_source(text: str) -> set[tuple[int, int, str]]:
    experiment, diags, _ = load("exp.mlx", read=lambda path: text if path == "exp.mlx" else None)
    found = {(d.span.line, d.span.column, d.code) for d in diags.sorted() if d.severity == "error"}
    assert (experiment is None) == bool(found)
    return found


def _mutated(indexes) -> str:
    text = CLEAN
    for i in indexes:
        old, new = MUTATIONS[i]
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@functools.cache
def _alone(i: int) -> frozenset:
    return frozenset(_errors_of_source(_mutated([i])))


def test_the_clean_example_is_clean():
    assert _errors_of_source(CLEAN) == set()


@pytest.mark.parametrize("i", range(len(MUTATIONS)), ids=[new for _, new in MUTATIONS])
def test_each_mutation_alone_is_reported(i):
    assert _alone(i)


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(0, len(MUTATIONS) - 1), min_size=1))
def test_k_independent_mistakes_give_at_least_k_errors_in_one_run(chosen):
    together = _errors_of_source(_mutated(sorted(chosen)))
    union = set().union(*(_alone(i) for i in chosen))
    assert union <= together, f"lost: {sorted(union - together)}"
    assert len(together) >= len(chosen)
