"""One WfFormat instance as the DAG every converter writes out: tasks in
document order, which task produces each file, and the files no task
produces (they must exist before the workflow starts)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from compiler.interop.wfformat_read import WfTask, WfWorkflow, read


@dataclass(frozen=True)
class Dag:
    workflow: WfWorkflow
    producer: dict[str, str]  # file ID -> ID of the task writing it
    sources: tuple[str, ...]  # file IDs read but never written, sorted

    @property
    def tasks(self) -> list[WfTask]:
        return self.workflow.tasks

    def order_only_parents(self, task: WfTask) -> list[str]:
        """Parents that feed the task no file: a pure ordering edge."""
        fed = {self.producer[f] for f in task.inputs if f in self.producer}
        return [p for p in task.parents if p not in fed]

    def sinks(self) -> list[str]:
        """Files nobody reads: the workflow's final results, sorted."""
        read_somewhere = {f for t in self.tasks for f in t.inputs}
        return sorted(f for f in self.producer if f not in read_somewhere)


def load(path: Path) -> Dag:
    return from_document(json.loads(path.read_text(encoding="utf-8")))


def from_document(doc: dict) -> Dag:
    workflow = read(doc)
    producer: dict[str, str] = {}
    for task in workflow.tasks:
        for file_id in task.outputs:
            producer.setdefault(file_id, task.id)
    sources = sorted({f for t in workflow.tasks for f in t.inputs if f not in producer})
    return Dag(workflow, producer, tuple(sources))
