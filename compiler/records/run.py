"""The runner's two calls: before the workflow starts (stale usage files
go) and after it ends (the run's records are appended; its crate written)."""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__
from ..ir import Experiment, Plan
from . import collect, store
from .store import INTERRUPTED  # noqa: F401 - the runner's status for a stopped run


def prepare(outdir: Path, scheduled: set[str]) -> None:
    for rule in scheduled:  # <rule>.json, <rule>.pods.json: an earlier run's
        for stale in (outdir / collect.USAGE_DIR).glob(f"{rule}.*json"):
            stale.unlink(missing_ok=True)


def new_run_id(now: float) -> str:
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def finish(experiment: Experiment, plan: Plan, outdir: Path, scheduled: set[str], started: float,
           status: int, say: Callable[[str], None] = print) -> str | None:
    """Append the run and its steps to the folder's store, with the steps
    that finished while no `mlc run` watched (collect.unwatched). A failure
    to record is reported and never changes the run's own result. Status
    store.INTERRUPTED (130): the run was stopped, its running steps are
    recorded as interrupted. `say` shows the messages for people; returns
    the run id, or None when nothing was recorded."""
    run_id = new_run_id(started)
    try:
        ran = scheduled | collect.unwatched(outdir, store.read(outdir)[1])
        if not ran:
            return None  # nothing ran: nothing to record
        steps = collect.steps(experiment, plan, outdir, run_id, ran,
                              interrupted=status == store.INTERRUPTED)
        run = store.Run(run_id=run_id, experiment=experiment.name, started=started, ended=time.time(),
                        status=status, sources=json.dumps(experiment.sources),
                        params=json.dumps(experiment.params, sort_keys=True), mlc_version=__version__)
        store.append(outdir, run, steps)
    except (store.StoreError, OSError) as err:
        print(f"mlc: the run's records were not saved: {err}", file=sys.stderr)
        return None
    say(f"recorded run {run_id}: {len(steps)} step{'s' if len(steps) != 1 else ''} in "
        f"{outdir / store.STORE} (`mlc report` shows them)")
    _write_crate(experiment, plan, outdir, run, steps, say)
    return run_id


def _write_crate(experiment, plan, outdir, run, steps, say) -> None:
    try:
        from . import crate
    except ImportError:  # the optional `rocrate` package is not installed
        return
    try:
        path = crate.write(experiment, outdir, run, steps)
    except Exception as err:  # noqa: BLE001 - a crate must never fail the run
        print(f"mlc: the run's RO-Crate was not written: {err}", file=sys.stderr)
        return
    say(f"provenance: {path}")
