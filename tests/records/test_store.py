"""The records store: append-only, versioned, read back as written."""

from __future__ import annotations

import sqlite3
from dataclasses import fields

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


def test_a_version_1_store_gains_the_new_columns_and_keeps_its_rows(tmp_path):
    """A store written before restarts and image_id existed (schema 1)."""
    old = store._SCHEMA.replace(", restarts INTEGER, image_id TEXT", "")
    (tmp_path / store.STORE).parent.mkdir(parents=True)
    db = sqlite3.connect(tmp_path / store.STORE)
    db.executescript(old)
    db.execute("PRAGMA user_version = 1")
    columns = [f.name for f in fields(store.Step) if f.name not in ("restarts", "image_id")]
    row = step(elapsed_s=4.0)
    db.execute("INSERT INTO runs VALUES ('r1', 'exp', 1000, 1060, 0, '[]', '{}', '0')")
    db.execute(f"INSERT INTO steps ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
               [getattr(row, c) for c in columns])
    db.commit()
    db.close()
    store.append(tmp_path, run("r2", started=2000.0), [step(run_id="r2", restarts=2, image_id="img@sha256:ab")])
    _, steps = store.read(tmp_path)
    assert [(s.run_id, s.elapsed_s, s.restarts, s.image_id) for s in steps] == [
        ("r1", 4.0, None, None), ("r2", None, 2, "img@sha256:ab")]
    assert sqlite3.connect(tmp_path / store.STORE).execute("PRAGMA user_version").fetchone()[0] == 2
