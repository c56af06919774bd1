"""The language server's index knows per-member references and zipped
sweeps: each name in them leads to its definition."""

from __future__ import annotations

from compiler.diagnostics import Diagnostics
from compiler.editors.lsp_index import build_index
from compiler.frontend.syntax import parse_module

SOURCE = """\
stage train for (lr, bs) in zip([0.1, 0.01], [16, 32]) {
  out ckpt = file("runs/${lr}/${bs}")
  run = "train > ${out.ckpt}"
}
stage eval for lr in [0.1] {
  in ckpt = train[lr = lr, bs = 16].ckpt
  run = "score ${in.ckpt}"
}
"""


def _symbol_at(index, line: int, text: str, nth: int = 0) -> str:
    column = -1
    for _ in range(nth + 1):
        column = SOURCE.splitlines()[line - 1].index(text, column + 1)
    occ = index.at("exp.mlx", line, column + 1)
    assert occ is not None, (line, text)
    return occ.symbol


def test_the_names_of_a_selection_and_of_a_zip_lead_to_their_definitions():
    module = parse_module(SOURCE, "exp.mlx", Diagnostics())
    index = build_index([module])
    assert _symbol_at(index, 6, "train") == "train"
    assert _symbol_at(index, 6, "lr") == "train.axis.lr"  # the key: the selected stage's variable
    assert _symbol_at(index, 6, "lr", nth=1) == "eval.axis.lr"  # the value: read here
    assert _symbol_at(index, 6, "bs") == "train.axis.bs"
    assert _symbol_at(index, 6, "ckpt", nth=1) == "train.out.ckpt"
    assert index.definitions["train.axis.bs"].pos.line == 1
    assert _symbol_at(index, 2, "bs") == "train.axis.bs"
