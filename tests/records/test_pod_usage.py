"""A Kubernetes step's record from its pods' status (compiler/sites/kubernetes/usage.py):
an Indexed Job's member reads its own completion index, a retried index
counts the attempt that succeeded, and the elapsed time comes from the
container's timestamps (no CPU or memory: the pod status has none)."""

from __future__ import annotations

import json

from compiler.sites.kubernetes.usage import from_pods


def _pod(index: int, name: str, phase: str, created: str, started: str, finished: str, code: int, node: str):
    return {"metadata": {"name": name, "creationTimestamp": created,
                         "annotations": {"batch.kubernetes.io/job-completion-index": str(index)},
                         "labels": {"batch.kubernetes.io/job-name": "exp-train-alice"}},
            "spec": {"nodeName": node},
            "status": {"phase": phase, "containerStatuses": [{
                "restartCount": 0, "imageID": "img@sha256:1",
                "state": {"terminated": {"startedAt": started, "finishedAt": finished, "exitCode": code}}}]}}


PODS = [
    _pod(0, "a", "Succeeded", "2026-12-02T08:00:00Z", "2026-12-02T08:00:02Z", "2026-12-02T08:01:02Z", 0, "n1"),
    _pod(1, "b", "Failed", "2026-12-02T08:00:00Z", "2026-12-02T08:00:04Z", "2026-12-02T08:00:09Z", 2, "n2"),
    _pod(1, "c", "Succeeded", "2026-12-02T08:00:10Z", "2026-12-02T08:00:11Z", "2026-12-02T08:00:41Z", 0, "n1"),
]


def test_each_member_of_an_indexed_job_reads_its_own_index():
    first, second = from_pods(PODS, 0), from_pods(PODS, 1)
    assert (first["elapsed_s"], first["exit_status"], first["restarts"], first["job_id"]) == (60.0, 0, 0,
                                                                                             "exp-train-alice_0")
    assert (second["elapsed_s"], second["exit_status"], second["restarts"]) == (30.0, 0, 1)  # the retry counted
    assert json.loads(second["nodes"]) == ["n1"] and second["queue_wait_s"] == 11.0
    assert "cpu_time_s" not in first and "max_rss_bytes" not in first


def test_a_whole_job_spans_all_its_pods_and_a_missing_index_is_none():
    whole = from_pods(PODS, None)
    assert whole["elapsed_s"] == 60.0 and json.loads(whole["nodes"]) == ["n1"] and whole["restarts"] == 1
    assert from_pods(PODS, 5) is None and from_pods([], None) is None


def test_a_container_still_running_has_no_end():
    running = json.loads(json.dumps(PODS[0]))
    running["status"]["containerStatuses"][0]["state"] = {"running": {"startedAt": "2026-12-02T08:00:02Z"}}
    reported = from_pods([running], None)
    assert reported["end"] is None and reported["elapsed_s"] is None
