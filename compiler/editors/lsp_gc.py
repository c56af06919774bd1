"""The cyclic garbage collector in the language server.

A check of a large file builds hundreds of thousands of objects (syntax
tree, IR, diagnostics) that live until the next check and form no cycles:
they are freed by reference counting alone. The front end pauses the collector
while it builds them; the first allocation after it resumed scanned all of
them at once (~0.14 s at 5,000 stages, before the diagnostics went out),
and every full collection after that scanned them again.

So a check runs with the collector paused and then moves what it built to
the permanent generation (`gc.freeze`, O(1)): the collector never looks at
it. Cycles among frozen objects are rare (an analysis replaced by the next
leaves none behind; a few of pygls' objects may), so a full collection,
~0.25 s at 5,000 stages, runs when the editor is idle once every
FULL_COLLECTION_EVERY freezes, and freezes the survivors again."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

FULL_COLLECTION_EVERY = 10
_frozen_since_collection = 0


@contextmanager
def frozen_afterwards() -> Iterator[None]:
    """Run the block without the collector; what it allocated is frozen."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        global _frozen_since_collection
        _frozen_since_collection += 1
        gc.freeze()
        if was_enabled:
            gc.enable()


def collect_when_idle() -> None:
    """A full collection over everything, frozen objects included, when
    FULL_COLLECTION_EVERY freezes have happened since the last."""
    global _frozen_since_collection
    if _frozen_since_collection < FULL_COLLECTION_EVERY:
        return
    _frozen_since_collection = 0
    gc.unfreeze()
    gc.collect()
    gc.freeze()
