"""Reading a WfFormat (WfCommons) instance, schema versions 1.4 to 1.6, into
one version-independent model.

1.4 keeps everything in `workflow.tasks`: each task has its runtime, cores and
machine, `parents`/`children` by task *name*, and `files` with a
`link: input|output`. 1.5 and 1.6 (which only adds optional metrics) split
`workflow.specification` (tasks with parents, children, inputFiles and
outputFiles by ID; files with sizeInBytes) from `workflow.execution` (tasks
with runtimeInSeconds, coreCount, memoryInBytes, machines; the machines).

A missing or mistyped field raises ShapeError with its JSON path, so that the
caller can point at it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from . import codes

SUPPORTED_VERSIONS = ("1.4", "1.5", "1.6")

JsonPath = tuple[str | int, ...]


class ShapeError(Exception):
    def __init__(self, message: str, path: JsonPath, code: str = codes.WF_SHAPE) -> None:
        super().__init__(message)
        self.message = message
        self.path = path  # where in the document, for the diagnostic's position
        self.code = code


@dataclass(frozen=True)
class WfTask:
    id: str
    name: str
    parents: tuple[str, ...]  # task IDs
    inputs: tuple[str, ...]  # file IDs
    outputs: tuple[str, ...]
    runtime: float | None = None  # seconds
    cores: float | None = None
    memory: int | None = None  # bytes, peak resident set
    program: str | None = None
    arguments: tuple[str, ...] = ()
    path: JsonPath = ()  # where the task is in the document


@dataclass(frozen=True)
class WfMachine:
    name: str
    cores: int | None = None
    memory: int | None = None  # bytes
    path: JsonPath = ()


@dataclass
class WfWorkflow:
    name: str
    description: str
    version: str
    tasks: list[WfTask]  # document order
    file_sizes: dict[str, int] = field(default_factory=dict)
    machines: list[WfMachine] = field(default_factory=list)


def read(doc: Any) -> WfWorkflow:
    root = _object(doc, ())
    version = _field(root, "schemaVersion", str, ())
    if version not in SUPPORTED_VERSIONS:
        raise ShapeError(
            f"WfFormat schema version {version!r} is not supported "
            f"(supported: {', '.join(SUPPORTED_VERSIONS)})", ("schemaVersion",), codes.WF_VERSION)
    name = _field(root, "name", str, ())
    description = _optional(root, "description", str, ()) or ""
    workflow = _field(root, "workflow", dict, ())
    if version == "1.4":
        return _read_14(workflow, name, description, version)
    return _read_15(workflow, name, description, version)


# --- 1.4 ----------------------------------------------------------------------


def _read_14(workflow: dict, name: str, description: str, version: str) -> WfWorkflow:
    base: JsonPath = ("workflow",)
    tasks_json = _field(workflow, "tasks", list, base)
    by_reference: dict[str, str] = {}  # 1.4 tasks refer to each other by name
    ids: set[str] = set()
    for index, task in enumerate(tasks_json):
        task = _object(task, base + ("tasks", index))
        task_id = _task_id_14(task, base + ("tasks", index))
        if task_id in ids:
            raise ShapeError(f"task {task_id!r} is declared twice", base + ("tasks", index))
        ids.add(task_id)
        for reference in (task.get("name"), task.get("id")):
            if isinstance(reference, str):
                by_reference.setdefault(reference, task_id)
    sizes: dict[str, int] = {}
    tasks = []
    for index, task in enumerate(tasks_json):
        path = base + ("tasks", index)
        inputs, outputs = [], []
        for f_index, entry in enumerate(_optional(task, "files", list, path) or []):
            f_path = path + ("files", f_index)
            entry = _object(entry, f_path)
            file_id = _field(entry, "name", str, f_path)
            prefix = _optional(entry, "path", str, f_path)
            file_id = (prefix or "") + file_id
            sizes.setdefault(file_id, _size(entry, "sizeInBytes", f_path))
            link = _field(entry, "link", str, f_path).lower()
            if link not in ("input", "output"):
                raise ShapeError(f"`link` must be `input` or `output`, not {link!r}",
                                 f_path + ("link",))
            (inputs if link == "input" else outputs).append(file_id)
        command = _optional(task, "command", dict, path) or {}
        tasks.append(WfTask(
            id=_task_id_14(task, path),
            name=_field(task, "name", str, path),
            parents=_references(task, "parents", by_reference, path),
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            runtime=_number(task, "runtimeInSeconds", path),
            cores=_number(task, "cores", path),
            memory=_integer(task, "memoryInBytes", path),
            program=_optional(command, "program", str, path + ("command",)),
            arguments=_arguments(command, path + ("command",)),
            path=path,
        ))
    tasks = _add_children(tasks, tasks_json, by_reference)
    machines = [_machine(m, base + ("machines", i), "count")
                for i, m in enumerate(_optional(workflow, "machines", list, base) or [])]
    return WfWorkflow(name, description, version, tasks, sizes, machines)


def _task_id_14(task: dict, path: JsonPath) -> str:
    """The ID WfFormat's own 1.4 -> 1.5 migration gives a task."""
    name = _field(task, "name", str, path)
    old_id = _optional(task, "id", str, path)
    if old_id is None or old_id in name:
        return name
    return f"{name}_{old_id}"


def _references(task: dict, key: str, by_reference: dict[str, str], path: JsonPath
                ) -> tuple[str, ...]:
    resolved = []
    for index, reference in enumerate(_optional(task, key, list, path) or []):
        if not isinstance(reference, str) or reference not in by_reference:
            raise ShapeError(f"`{key}` names no task: {reference!r}", path + (key, index),
                             codes.WF_UNKNOWN_TASK)
        resolved.append(by_reference[reference])
    return tuple(resolved)


def _add_children(tasks: list[WfTask], tasks_json: list, by_reference: dict[str, str]
                  ) -> list[WfTask]:
    """Dependencies declared on the parent's side only (`children`), added to
    the children's parents."""
    parents: dict[str, list[str]] = {}
    for task, raw in zip(tasks, tasks_json, strict=True):
        for child in _references(raw, "children", by_reference, task.path):
            parents.setdefault(child, []).append(task.id)
    return [_with_parents(t, tuple(parents.get(t.id, ()))) for t in tasks]


def _with_parents(task: WfTask, more: tuple[str, ...]) -> WfTask:
    merged = tuple(dict.fromkeys(task.parents + more))
    if merged == task.parents:
        return task
    return replace(task, parents=merged)


# --- 1.5 and 1.6 ----------------------------------------------------------------


def _read_15(workflow: dict, name: str, description: str, version: str) -> WfWorkflow:
    spec_path: JsonPath = ("workflow", "specification")
    specification = _field(workflow, "specification", dict, ("workflow",))
    tasks_json = _field(specification, "tasks", list, spec_path)
    sizes: dict[str, int] = {}
    for index, entry in enumerate(_optional(specification, "files", list, spec_path) or []):
        f_path = spec_path + ("files", index)
        entry = _object(entry, f_path)
        sizes.setdefault(_field(entry, "id", str, f_path), _size(entry, "sizeInBytes", f_path))

    execution = _optional(workflow, "execution", dict, ("workflow",)) or {}
    exec_path: JsonPath = ("workflow", "execution")
    runs: dict[str, tuple[dict, JsonPath]] = {}
    for index, entry in enumerate(_optional(execution, "tasks", list, exec_path) or []):
        e_path = exec_path + ("tasks", index)
        entry = _object(entry, e_path)
        runs[_field(entry, "id", str, e_path)] = (entry, e_path)

    ids = set()
    for index, task in enumerate(tasks_json):
        path = spec_path + ("tasks", index)
        task_id = _field(_object(task, path), "id", str, path)
        if task_id in ids:
            raise ShapeError(f"task ID {task_id!r} is used twice", path + ("id",))
        ids.add(task_id)
    by_reference = {task_id: task_id for task_id in ids}

    tasks = []
    for index, task in enumerate(tasks_json):
        path = spec_path + ("tasks", index)
        task_id = task["id"]
        run, run_path = runs.get(task_id, ({}, exec_path))
        command = _optional(run, "command", dict, run_path) or {}
        tasks.append(WfTask(
            id=task_id,
            name=_field(task, "name", str, path),
            parents=_references(task, "parents", by_reference, path),
            inputs=_strings(task, "inputFiles", path),
            outputs=_strings(task, "outputFiles", path),
            runtime=_number(run, "runtimeInSeconds", run_path),
            cores=_number(run, "coreCount", run_path),
            memory=_integer(run, "memoryInBytes", run_path),
            program=_optional(command, "program", str, run_path + ("command",)),
            arguments=_arguments(command, run_path + ("command",)),
            path=path,
        ))
    tasks = _add_children(tasks, tasks_json, by_reference)
    machines = [_machine(m, exec_path + ("machines", i), "coreCount")
                for i, m in enumerate(_optional(execution, "machines", list, exec_path) or [])]
    return WfWorkflow(name, description, version, tasks, sizes, machines)


# --- machines and small typed getters -------------------------------------------


def _machine(entry: Any, path: JsonPath, cores_key: str) -> WfMachine:
    entry = _object(entry, path)
    cpu = _optional(entry, "cpu", dict, path) or {}
    cores = cpu.get(cores_key, cpu.get("count", cpu.get("coreCount")))
    if cores is not None and (not isinstance(cores, int) or isinstance(cores, bool) or cores < 1):
        raise ShapeError("the CPU core count must be a positive integer", path + ("cpu", cores_key))
    return WfMachine(
        name=_field(entry, "nodeName", str, path),
        cores=cores,
        memory=_integer(entry, "memoryInBytes", path),
        path=path,
    )


_TYPE_NAMES = {str: "a string", dict: "an object", list: "a list"}


def _object(value: Any, path: JsonPath) -> dict:
    if not isinstance(value, dict):
        raise ShapeError("expected an object", path)
    return value


def _field(obj: dict, key: str, kind: type, path: JsonPath) -> Any:
    if key not in obj:
        raise ShapeError(f"missing required field `{key}`", path)
    return _optional(obj, key, kind, path)


def _optional(obj: dict, key: str, kind: type, path: JsonPath) -> Any:
    value = obj.get(key)
    if value is not None and not isinstance(value, kind):
        raise ShapeError(f"`{key}` must be {_TYPE_NAMES[kind]}", path + (key,))
    if kind is str and value == "":
        raise ShapeError(f"`{key}` must not be empty", path + (key,))
    return value


def _number(obj: dict, key: str, path: JsonPath) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ShapeError(f"`{key}` must be a non-negative number", path + (key,))
    return float(value)


def _integer(obj: dict, key: str, path: JsonPath) -> int | None:
    value = _number(obj, key, path)
    return None if value is None else int(value)


def _size(obj: dict, key: str, path: JsonPath) -> int:
    if key not in obj:
        raise ShapeError(f"missing required field `{key}`", path)
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ShapeError(f"`{key}` must be a non-negative integer", path + (key,))
    return value


def _strings(obj: dict, key: str, path: JsonPath) -> tuple[str, ...]:
    values = _optional(obj, key, list, path) or []
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value:
            raise ShapeError(f"`{key}` must hold non-empty strings", path + (key, index))
    return tuple(values)


def _arguments(command: dict, path: JsonPath) -> tuple[str, ...]:
    return tuple(str(a) for a in _optional(command, "arguments", list, path) or [])
