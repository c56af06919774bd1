"""The records store: append-only, versioned, read back as written."""

from __future__ import annotations

import sqlite3

import pytest

from compiler.records import store
from tests.records.factory import run, step


def test_runs_and_steps_read_back_in_order(tmp_path):
    store.append(tmp_path, run("late", started=2000.0), [step(run_id="late", elapsed_s=5.0)])
    store.append(tmp_path, run("early", started=1000.0), [step(run_id="early", elapsed_s=3.0)])
    runs, steps = store.read(tmp_path)
    assert [r.run_id for r in runs] == ["early", "late"]
    assert [(s.run_id, s.elapsed_s) for s in steps] == [("early", 3.0), ("late", 5.0)]


@pytest.mark.parametrize("statement", ["UPDATE steps SET elapsed_s = 1", "DELETE FROM steps",
                                       "UPDATE runs SET status = 1", "DELETE FROM runs"])
def test_rows_are_never_rewritten(tmp_path, statement):
    store.append(tmp_path, run(), [step(elapsed_s=5.0)])
    db = sqlite3.connect(tmp_path / store.STORE)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute(statement)


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    store.append(tmp_path, run(), [])
    db = sqlite3.connect(tmp_path / store.STORE)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(store.StoreError, match="schema version 99"):
        store.read(tmp_path)


def test_no_store_reads_as_nothing(tmp_path):
    assert store.read(tmp_path) == ([], [])
    assert not (tmp_path / store.STORE).exists()
