"""Which block the cursor is in, read from the text before it: the part of
completion that must work while the file does not parse."""

from __future__ import annotations

from compiler.editors.lsp_completion import complete, enclosing_block
from compiler.editors.lsp_index import Index


def labels(before: str) -> set[str]:
    return {c.label for c in complete(before, Index(), "x.mlx", before.count("\n") + 1)}


def test_the_enclosing_block_skips_strings_comments_and_maps():
    assert enclosing_block("stage a {\n  run = \"{ not a block\" // {\n  ") == ("stage", " a ")
    assert enclosing_block("stage a {\n  env = {A: 1}\n  ") == ("stage", " a ")
    assert enclosing_block("stage a {\n  env = {\n    ") == ("map", "")
    assert enclosing_block('stage a {\n  run = """\n}\n"""\n  ') == ("stage", " a ")
    assert enclosing_block("stage a { x = 1 }\n") is None


def test_fields_depend_on_the_site_kind_and_the_pool_keyword():
    slurm = labels("site c : slurm {\n  ")
    assert {"login", "account", "partition"} <= slurm and "namespace" not in slurm
    kubernetes = labels("site c : kubernetes {\n  ")
    assert {"namespace", "pool"} <= kubernetes and "partition" not in kubernetes
    assert {"nodes", "max_time", "price"} <= labels("site c : slurm {\n  partition gpu {\n    ")
    assert {"bandwidth", "latency"} <= labels("link a <-> b {\n  ")


def test_a_template_body_takes_the_fields_of_its_kind():
    assert "replicas" in labels("template T(a: int) : service {\n  ")
    assert "retries" in labels("template T(a: int) : stage {\n  ")


def test_keywords_at_the_top_level_and_units_after_numbers():
    assert {"stage", "service", "param"} <= labels("stage a {}\n")
    assert labels("stage a {\n  memory = 16G") == {"GB", "GiB", "Gbps", "GB/s"}
    assert labels("link a -> b {\n  egress = 0.01/") >= {"/GB", "/TB", "/h"}


def test_a_selector_offers_the_stages_sweep_variables_then_its_outputs():
    from compiler.diagnostics import Diagnostics
    from compiler.editors.lsp_index import build_index
    from compiler.frontend.syntax import parse_module

    source = ('stage train for lr in [1], bs in [2] {\n  out ckpt = file("c/${lr}/${bs}")\n  run = "true"\n}\n'
              'stage eval for lr in [1] {\n  run = "true"\n}\n')
    index = build_index([parse_module(source, "x.mlx", Diagnostics())])

    def offered(before: str) -> set[str]:
        return {c.label for c in complete(before, index, "x.mlx", 6)}

    assert offered("stage eval for lr in [1] {\n  in c = train[") == {"lr", "bs"}
    assert offered("stage eval for lr in [1] {\n  in c = train[lr = lr, b") == {"lr", "bs"}
    assert offered("stage eval for lr in [1] {\n  in c = train[lr = lr].") == {"ckpt"}
    assert {"range", "zip"} <= labels("stage a {\n  cpus = ")
