"""The records store: one SQLite file per output folder, append-only.

Rows are only ever INSERTed: a run and its steps are written once, at the
end of the run, in one transaction. The schema carries its version in
`PRAGMA user_version`; a store of an older version gains the columns added
since (NULL in its rows, which stay as they were), one of a newer or unknown
version is refused rather than rewritten."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, fields
from pathlib import Path

SCHEMA_VERSION = 2
STORE = Path(".mlc") / "records.sqlite"

# What each version added to the one before: columns only, so that an older
# store is brought up to date without touching a row.
_ADDED = {2: ["ALTER TABLE steps ADD COLUMN restarts INTEGER", "ALTER TABLE steps ADD COLUMN image_id TEXT"]}

_SCHEMA = """
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY, experiment TEXT NOT NULL, started REAL NOT NULL, ended REAL NOT NULL,
  status INTEGER NOT NULL, sources TEXT NOT NULL, params TEXT NOT NULL, mlc_version TEXT NOT NULL
);
CREATE TABLE steps (
  run_id TEXT NOT NULL REFERENCES runs(run_id), rule TEXT NOT NULL, unit TEXT NOT NULL,
  stage TEXT NOT NULL, site TEXT NOT NULL, pool TEXT NOT NULL, kind TEXT NOT NULL,
  job_id TEXT, nodes TEXT NOT NULL, state TEXT NOT NULL, exit_status INTEGER,
  submit REAL, start REAL, end REAL, queue_wait_s REAL, elapsed_s REAL, cpu_time_s REAL,
  max_rss_bytes INTEGER, cpus_asked REAL, memory_asked_bytes INTEGER, gpus_asked INTEGER,
  time_limit_s REAL, estimate_s REAL, image TEXT, params TEXT NOT NULL,
  inputs TEXT NOT NULL, outputs TEXT NOT NULL, restarts INTEGER, image_id TEXT,
  PRIMARY KEY (run_id, unit)
);
CREATE TRIGGER steps_append_only_u BEFORE UPDATE ON steps BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;
CREATE TRIGGER steps_append_only_d BEFORE DELETE ON steps BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;
CREATE TRIGGER runs_append_only_u BEFORE UPDATE ON runs BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;
CREATE TRIGGER runs_append_only_d BEFORE DELETE ON runs BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;
"""


INTERRUPTED = 130  # a run's status when Ctrl-C (or SIGTERM) stopped it, as the shell says


def outcome(status: int) -> str:
    """A run's status in words: completed, failed, interrupted."""
    return "completed" if status == 0 else "interrupted" if status == INTERRUPTED else "failed"


class StoreError(Exception):
    """A records store this mlc cannot use (another schema version, not SQLite)."""


@dataclass(frozen=True)
class Run:
    run_id: str
    experiment: str
    started: float  # seconds since the epoch
    ended: float
    status: int  # mlc run's exit status: 0, 1 (failed), INTERRUPTED

    @property
    def outcome(self) -> str:
        return outcome(self.status)
    sources: str  # JSON list of the .mlx files
    params: str  # JSON object of the experiment's params
    mlc_version: str


@dataclass(frozen=True)
class Step:
    """One step of one run. None where the site could not tell."""

    run_id: str
    rule: str  # the Snakemake rule: one per instance, or per stage for a Slurm job array
    unit: str  # "train[lr=0.01]"
    stage: str
    site: str
    pool: str  # "charisma.gpu"
    kind: str  # local, slurm, kubernetes, ssh
    job_id: str | None
    nodes: str  # JSON list of host names
    state: str  # COMPLETED, FAILED, ... (Slurm's words; local steps use the same), REUSED (from the
    # result cache: the command did not run), INTERRUPTED (the run was stopped while it ran)
    exit_status: int | None
    submit: float | None
    start: float | None
    end: float | None
    queue_wait_s: float | None
    elapsed_s: float | None
    cpu_time_s: float | None
    max_rss_bytes: int | None
    cpus_asked: float | None
    memory_asked_bytes: int | None
    gpus_asked: int | None
    time_limit_s: float | None
    estimate_s: float | None  # what the plan expected
    image: str | None
    params: str  # JSON object
    inputs: str  # JSON list of {"name", "path", "size", "sha256"}
    outputs: str
    restarts: int | None = None  # container restarts and retried pods (Kubernetes)
    image_id: str | None = None  # the image that ran, by digest, as the site reported it


def open_store(folder: Path) -> sqlite3.Connection:
    path = folder / STORE
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and not db.execute("SELECT name FROM sqlite_master").fetchall():
            with db:
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif 1 <= version < SCHEMA_VERSION:
            with db:
                for added in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _ADDED[added]:
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            raise StoreError(f"{path}: records of schema version {version}; this mlc reads {SCHEMA_VERSION}")
    except sqlite3.DatabaseError as err:
        db.close()
        raise StoreError(f"{path}: {err}") from None
    except StoreError:
        db.close()
        raise
    return db


def append(folder: Path, run: Run, steps: list[Step]) -> None:
    db = open_store(folder)
    try:
        with db:
            _insert(db, "runs", asdict(run))
            for step in steps:
                _insert(db, "steps", asdict(step))
    finally:
        db.close()


def _insert(db: sqlite3.Connection, table: str, row: dict) -> None:
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values()))


def read(folder: Path) -> tuple[list[Run], list[Step]]:
    """Every run and step recorded in the folder, oldest first; nothing if there is no store."""
    if not (folder / STORE).exists():
        return [], []
    db = open_store(folder)
    try:
        runs = [Run(*row) for row in db.execute(
            f"SELECT {', '.join(f.name for f in fields(Run))} FROM runs ORDER BY started, run_id")]
        steps = [Step(*row) for row in db.execute(
            f"SELECT {', '.join('steps.' + f.name for f in fields(Step))} FROM steps "
            "JOIN runs ON runs.run_id = steps.run_id ORDER BY runs.started, steps.rule, steps.unit")]
    finally:
        db.close()
    return runs, steps


def decode(text: str):
    return json.loads(text)
