"""A Kubernetes step's usage for the run records, from the pod status its
run script saved (`kubectl get pods -l batch.kubernetes.io/job-name=JOB -o
json` into .mlc/usage/<rule>.pods.json, compiler/backends/kubernetes/scripts.py).

What the pod status tells: when each pod was created, when its containers
started and finished, their exit codes and restarts, the node and the
image's digest. Elapsed time comes from those timestamps. CPU time and
memory are not in the pod status (metrics-server only samples live pods,
docs/records.md), so they stay unknown."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

INDEX = "batch.kubernetes.io/job-completion-index"
JOB_NAME = "batch.kubernetes.io/job-name"


def pods_file(outdir: Path, rule: str) -> Path:
    return outdir / ".mlc" / "usage" / f"{rule}.pods.json"


def read(outdir: Path, rule: str, index: int | None) -> dict | None:
    """Step fields from the saved pod list; None when there is none (or it
    cannot be read). `index`: the completion index of an Indexed Job's
    member, or None for all of the Job's pods (one instance, or a gang)."""
    try:
        listed = json.loads(pods_file(outdir, rule).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return from_pods(listed.get("items") or [], index) if isinstance(listed, dict) else None


def from_pods(pods: list[dict], index: int | None) -> dict | None:
    by_index: dict[str | None, list[dict]] = {}
    for pod in pods:
        by_index.setdefault(_annotations(pod).get(INDEX), []).append(pod)
    if index is not None and any(key is not None for key in by_index):
        by_index = {key: group for key, group in by_index.items() if key == str(index)}
    if not by_index:
        return None
    # Per completion index the attempt that counts: the one that succeeded,
    # else the last; the others were retries (the Job's backoffLimit).
    final = [_counted(group) for group in by_index.values()]
    retried = sum(len(group) - 1 for group in by_index.values())
    kept = [pod for group in by_index.values() for pod in group]
    statuses = [c for pod in final for c in (pod.get("status", {}).get("containerStatuses") or [])]
    ended = [_terminated(c) for c in statuses]
    starts = [_time(t.get("startedAt")) for t in ended if t] or [_time(p.get("status", {}).get("startTime"))
                                                                  for p in final]
    ends = [_time(t.get("finishedAt")) for t in ended if t]
    created = [_time(p.get("metadata", {}).get("creationTimestamp")) for p in kept]
    start = min((s for s in starts if s is not None), default=None)
    end = max((e for e in ends if e is not None), default=None) if ends and all(ended) else None
    submit = min((c for c in created if c is not None), default=None)
    codes = [t.get("exitCode") for t in ended if t and t.get("exitCode") is not None]
    job = _labels(kept[0]).get(JOB_NAME) or _labels(kept[0]).get("job-name")
    return {
        "job_id": None if job is None else (job if index is None else f"{job}_{index}"),
        "submit": submit, "start": start, "end": end,
        "queue_wait_s": start - submit if start is not None and submit is not None else None,
        "elapsed_s": round(end - start, 3) if start is not None and end is not None else None,
        "exit_status": max(codes, key=abs) if codes else None,
        "nodes": json.dumps(sorted({p["spec"]["nodeName"] for p in final if p.get("spec", {}).get("nodeName")})),
        "restarts": retried + sum(int(c.get("restartCount") or 0) for c in statuses),
        "image_id": next((c["imageID"] for c in statuses if c.get("imageID")), None),
    }


def _counted(group: list[dict]) -> dict:
    ordered = sorted(group, key=lambda p: (p.get("metadata", {}).get("creationTimestamp") or "",
                                           p.get("metadata", {}).get("name") or ""))
    succeeded = [p for p in ordered if p.get("status", {}).get("phase") == "Succeeded"]
    return (succeeded or ordered)[-1]


def _terminated(status: dict) -> dict | None:
    """The container's end: its state, or (restarted and running again) none."""
    return (status.get("state") or {}).get("terminated")


def _annotations(pod: dict) -> dict:
    return pod.get("metadata", {}).get("annotations") or {}


def _labels(pod: dict) -> dict:
    return pod.get("metadata", {}).get("labels") or {}


def _time(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
