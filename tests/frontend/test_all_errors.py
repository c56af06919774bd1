"""One run reports every independent error, in source order; a declaration
with an error is poisoned, so what depends on it is skipped, not reported
again (no cascades)."""

from __future__ import annotations

import textwrap

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


def test_two_independent_cycles_are_both_reported(tmp_path):
    assert _report(tmp_path, """
        stage a { after = [b]; run = "a" }
        stage b { after = [a]; run = "b" }
        stage c { after = [d]; run = "c" }
        stage d { after = [c]; run = "d" }
        stage e { after = [a, c]; run = "e" }
        """) == [(2, "E0601"), (4, "E0601")]


def test_a_cycle_does_not_hide_feasibility(tmp_path):
    assert _report(tmp_path, """
        site ws : local { cpus = 4; memory = 8GiB }
        stage a { after = [b]; run = "a" }
        stage b { after = [a]; run = "b" }
        stage big { cpus = 64; run = "big" }
        """) == [(3, "E0601"), (4, "E0701")]
