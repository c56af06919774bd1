"""The language server's use of the cycle collector (lsp_gc): a check's
objects are frozen, never scanned, and a cycle among them that becomes
garbage is still collected at an idle moment."""

from __future__ import annotations

import gc
import weakref

import pytest

from compiler.editors import lsp_gc


@pytest.fixture(autouse=True)
def _thawed():
    # The command line switches the collector off for its process; tests that
    # ran `cli.main` in this one may have left it off.
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()  # other tests run in this process
    if not was_enabled:
        gc.disable()


class Node:
    pass


def test_what_a_block_builds_is_frozen_and_the_collector_left_as_it_was():
    assert gc.isenabled()
    with lsp_gc.frozen_afterwards():
        assert not gc.isenabled()
        built = [Node() for _ in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() >= 1000
    gc.disable()
    try:
        with lsp_gc.frozen_afterwards():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    del built


def test_a_frozen_cycle_that_became_garbage_is_collected_when_idle(monkeypatch):
    monkeypatch.setattr(lsp_gc, "_frozen_since_collection", 0)
    with lsp_gc.frozen_afterwards():
        a, b = Node(), Node()
        a.other, b.other = b, a
    alive = weakref.ref(a)
    del a, b
    gc.collect()
    assert alive() is not None  # frozen: not even a full collection looks at it
    for _ in range(lsp_gc.FULL_COLLECTION_EVERY - 2):
        with lsp_gc.frozen_afterwards():
            pass
    lsp_gc.collect_when_idle()
    assert alive() is not None  # not yet: collected once every FULL_COLLECTION_EVERY checks
    with lsp_gc.frozen_afterwards():
        pass
    lsp_gc.collect_when_idle()
    assert alive() is None
