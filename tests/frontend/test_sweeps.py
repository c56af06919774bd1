"""Per-member references (`train[lr = lr].ckpt`), `range(...)` and zipped
sweeps (`for (a, b) in zip(xs, ys)`): the members and edges they lower to,
and the positioned errors of their misuse."""

from __future__ import annotations

import itertools

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from compiler.backends import snakefile
from compiler.placement import place
from tests.frontend.test_language import compile_text, errors_of

TRAIN = """
stage train for lr in [0.1, 0.01, 0.001], bs in [16, 32] {
  out ckpt = file("runs/${lr}/${bs}/model.pt")
  run = "train --lr ${lr} --bs ${bs} > ${out.ckpt}"
}
"""


def inputs_of(experiment, stage: str) -> dict[str, list[str]]:
    """Each instance of `stage`: the producers of its inputs."""
    return {i.id: sorted(p for inp in i.inputs for p, _ in inp.outputs)
            for i in experiment.instances if i.stage == stage}


def test_each_evaluation_reads_exactly_its_own_training(tmp_path):
    e = compile_text(tmp_path, TRAIN + """
        stage eval for lr in [0.1, 0.01, 0.001], bs in [16, 32] {
          in ckpt = train[lr = lr, bs = bs].ckpt
          out score = file("eval/${lr}/${bs}.txt")
          run = "score ${in.ckpt} > ${out.score}"
        }
    """)
    reads = inputs_of(e, "eval")
    assert len(reads) == 6
    for eval_id, producers in reads.items():
        assert producers == [eval_id.replace("eval", "train", 1)]
    into_evals = [edge for edge in e.edges if edge.target.startswith("eval")]
    assert len(into_evals) == 6


def test_a_partial_selector_reads_every_member_that_matches(tmp_path):
    e = compile_text(tmp_path, TRAIN + """
        stage pick for lr in [0.1, 0.01, 0.001] {
          in ckpts = train[lr = lr].ckpt
          out best = file("best/${lr}.txt")
          run = "pick ${in.ckpts} > ${out.best}"
        }
    """)
    assert inputs_of(e, "pick") == {
        f"pick[lr={lr}]": [f"train[lr={lr},bs=16]", f"train[lr={lr},bs=32]"] for lr in ("0.001", "0.01", "0.1")}


def test_a_constant_selector_and_numbers_compared_by_value(tmp_path):
    e = compile_text(tmp_path, TRAIN + """
        stage probe {
          in ckpt = train[lr = 0.10, bs = 32].ckpt
          out note = file("probe.txt")
          run = "cat ${in.ckpt} > ${out.note}"
        }
    """)
    assert inputs_of(e, "probe") == {"probe": ["train[lr=0.1,bs=32]"]}


def test_a_selector_with_a_template_parameter(tmp_path):
    e = compile_text(tmp_path, TRAIN + """
        template Eval(rate: float) : stage {
          in ckpt = train[lr = rate, bs = 16].ckpt
          out score = file("eval/${rate}.txt")
          run = "score ${in.ckpt} > ${out.score}"
        }
        stage eval : Eval(rate = lr) for lr in [0.1, 0.01] {}
    """)
    assert inputs_of(e, "eval") == {"eval[lr=0.1]": ["train[lr=0.1,bs=16]"],
                                    "eval[lr=0.01]": ["train[lr=0.01,bs=16]"]}


def test_the_snakefile_has_one_dependency_per_selected_member(tmp_path):
    e = compile_text(tmp_path, TRAIN + """
        stage eval for lr in [0.1, 0.01, 0.001], bs in [16, 32] {
          in ckpt = train[lr = lr, bs = bs].ckpt
          out score = file("eval/${lr}/${bs}.txt")
          run = "score ${in.ckpt} > ${out.score}"
        }
    """)
    text = snakefile.emit(e, place(e))["Snakefile"]
    rules = text.split("\nrule ")[1:]
    evals = [r for r in rules if r.startswith("eval_")]
    assert len(evals) == 6
    for rule in evals:
        inputs = rule.split("input:", 1)[1].split("output:", 1)[0]
        assert inputs.count(".mlc/done/train_") == 1, rule


def test_range_forms_and_a_range_param(tmp_path):
    e = compile_text(tmp_path, """
        param n: int = 3
        param shards: list[int] = range(10, 20, 5)
        stage a for i in range(n) { run = "echo ${i}" }
        stage b for i in range(2, 4) { run = "echo ${i}" }
        stage c for i in range(3, -3, -3) { run = "echo ${i}" }
        stage d for i in shards { run = "echo ${i}" }
    """)
    ids = [i.id for i in e.instances]
    assert ids == ["a[i=0]", "a[i=1]", "a[i=2]", "b[i=2]", "b[i=3]", "c[i=3]", "c[i=0]", "d[i=10]", "d[i=15]"]
    assert e.instances[0].sweep == {"i": 0}


def test_a_command_line_list_still_overrides_a_range_param(tmp_path):
    e = compile_text(tmp_path, 'param shards: list[int] = range(3)\nstage a for i in shards { run = "echo ${i}" }',
                     overrides={"shards": "[7]"})
    assert [i.id for i in e.instances] == ["a[i=7]"]


def test_zip_pairs_members_and_crosses_with_other_variables(tmp_path):
    e = compile_text(tmp_path, """
        param lrs: list[float] = [0.1, 0.01]
        stage a for (lr, bs) in zip(lrs, [32, 32]), seed in range(2) { run = "echo ${lr} ${bs} ${seed}" }
    """)
    assert [i.id for i in e.instances] == ["a[lr=0.1,bs=32,seed=0]", "a[lr=0.1,bs=32,seed=1]",
                                           "a[lr=0.01,bs=32,seed=0]", "a[lr=0.01,bs=32,seed=1]"]
    assert e.stages[0].sweep_axes == ["lr", "bs", "seed"]


def test_a_zipped_sweep_is_selected_like_any_other(tmp_path):
    e = compile_text(tmp_path, TRAIN + """
        stage export for (lr, bs) in zip([0.1, 0.001], [16, 32]) {
          in ckpt = train[lr = lr, bs = bs].ckpt
          out model = file("export/${lr}.pt")
          run = "cp ${in.ckpt} ${out.model}"
        }
    """)
    assert inputs_of(e, "export") == {"export[lr=0.1,bs=16]": ["train[lr=0.1,bs=16]"],
                                      "export[lr=0.001,bs=32]": ["train[lr=0.001,bs=32]"]}


def test_selection_errors(tmp_path):
    assert errors_of(tmp_path, TRAIN + 'stage e { in x = train[lr = 0.5].ckpt\n run = "true" }') == ["E0571"]
    assert errors_of(tmp_path, TRAIN + 'stage e { in x = train[lr = "0.1"].ckpt\n run = "true" }') == ["E0571"]
    assert errors_of(tmp_path, TRAIN + 'stage e { in x = train[lr = 0.1, lr = 0.1].ckpt\n run = "true" }') == ["E0570"]
    assert errors_of(tmp_path, TRAIN + 'stage e { in x = train[seed = 1].ckpt\n run = "true" }') == ["E0570"]
    assert errors_of(tmp_path, TRAIN + 'stage e { in x = train[lr = 0.1].model\n run = "true" }') == ["E0602"]
    assert errors_of(tmp_path, TRAIN + 'stage e { in x = train[lr = 0.1]\n run = "true" }') == ["E0602"]
    assert errors_of(tmp_path, TRAIN + 'stage e { in x = trian[lr = 0.1].ckpt\n run = "true" }') == ["E0202"]
    assert errors_of(tmp_path, TRAIN + 'stage e { in x = train[lr = nope].ckpt\n run = "true" }') == ["E0202"]
    assert errors_of(tmp_path, 'stage t { out o = file("o")\n run = "true" }\n'
                               'stage e { in x = t[lr = 1].o\n run = "true" }') == ["E0570"]
    assert errors_of(tmp_path, TRAIN + 'stage e { env = {X: train[lr = 0.1].ckpt}\n run = "true" }') == ["E0303"]


def test_a_broken_producer_sweep_does_not_cascade_into_its_selections(tmp_path):
    broken = TRAIN.replace("[16, 32]", "[16, 16]")
    assert errors_of(tmp_path, broken + 'stage e { in x = train[lr = 0.1, bs = 16].ckpt\n run = "true" }') == ["E0506"]


def test_range_and_zip_errors(tmp_path):
    def code(sweep: str) -> list[str]:
        return errors_of(tmp_path, f'param n: int = 2\nstage a for {sweep} {{ run = "true" }}')
    assert code("i in range()") == ["E0572"]
    assert code("i in range(1, 2, 3, 4)") == ["E0572"]
    assert code("i in range(0.5)") == ["E0303"]
    assert code("i in range(stop = 3)") == ["E0572"]
    assert code("i in range(3, 3)") == ["E0573"]
    assert code("i in range(0, 3, -1)") == ["E0573"]
    assert code("i in range(20000)") == ["E0507"]
    assert code("i in range(0, 9223372036854775807)") == ["E0507"]
    assert code("i in range(99999999999999999999)") == ["E0313"]
    assert code("(a, b) in zip([1, 2], [3])") == ["E0574"]
    assert code("(a, b) in zip([1, 2])") == ["E0575"]
    assert code("(a, b) in [1, 2]") == ["E0575"]
    assert code("a in zip([1], [2])") == ["E0575"]
    assert code("(a, a) in zip([1], [2])") == ["E0506"]
    assert code("(a, b) in zip([1, 1], [2, 2])") == ["E0506"]
    assert code("(a, b) in zip([1, 1], [2, 3])") == []
    assert errors_of(tmp_path, 'param xs: list[str] = range(3)\nstage a { run = "true" }') == ["E0303"]


@settings(max_examples=30, deadline=None)
@given(lrs=st.lists(st.sampled_from(["0.1", "0.01", "1e-3", "2", "0.5"]), min_size=1, max_size=4, unique=True),
       bss=st.lists(st.integers(1, 64), min_size=1, max_size=3, unique=True),
       partial=st.booleans())
def test_every_consumer_reads_exactly_the_members_it_selects(tmp_path_factory, lrs, bss, partial):
    assume(len({float(x) for x in lrs}) == len(lrs))
    tmp_path = tmp_path_factory.mktemp("grid")
    grid = f"lr in [{', '.join(lrs)}], bs in [{', '.join(map(str, bss))}]"
    selector = "lr = lr" if partial else "lr = lr, bs = bs"
    e = compile_text(tmp_path, f"""
        stage train for {grid} {{
          out o = file("t/${{lr}}/${{bs}}")
          run = "true > ${{out.o}}"
        }}
        stage use for {grid} {{
          in i = train[{selector}].o
          out o = file("u/${{lr}}/${{bs}}")
          run = "cat ${{in.i}} > ${{out.o}}"
        }}
    """)
    train = {i.id: i.sweep for i in e.instances if i.stage == "train"}
    for use in (i for i in e.instances if i.stage == "use"):
        wanted = sorted(t for t, sweep in train.items()
                        if sweep["lr"] == use.sweep["lr"] and (partial or sweep["bs"] == use.sweep["bs"]))
        assert sorted(p for inp in use.inputs for p, _ in inp.outputs) == wanted
    assert len([x for x in e.edges if x.target.startswith("use")]) == len(lrs) * len(bss) * (len(bss) if partial else 1)
    assert len(list(itertools.chain(train))) == len(lrs) * len(bss)


def test_a_member_whose_values_broke_an_output_is_reported_not_crashed_on(tmp_path):
    """One member's value makes its output path invalid (E0310), so only the
    other members have that output: an input gathering the sweep, and one
    selecting that member, are dropped quietly instead of looking up an
    output that was never made (found by the fuzz test: a NUL in a list
    param's string)."""
    sweep = """
        stage train for name in ["ok", "../../up"] {
          out curves = file("runs/${name}/metrics.csv")
          run = "train > ${out.curves}"
        }
    """
    gathered = errors_of(tmp_path, sweep + """
        stage report {
          in curves = train.curves
          out table = file("report.md")
          run = "report ${in.curves} > ${out.table}"
        }
    """)
    selected = errors_of(tmp_path, sweep + """
        stage report {
          in curves = train[name = "../../up"].curves
          out table = file("report.md")
          run = "report ${in.curves} > ${out.table}"
        }
    """)
    assert gathered == selected == ["E0310"]
