"""`mlc import wfformat instance.json`: a WfFormat (WfCommons) workflow instance
as an .mlx experiment, and, with `--sites`, a site catalog for it.

One stage per task. Files a task writes are its outputs (`size =` kept); a
file another task wrote is an input bound to that output; a file no task
writes is a project file read on the local side. Measured runtimes become
`estimate =`, core counts `cpus =`, peak memory `memory =`. Parents that no
file already connects become `after = [...]`. docs/interop.md has the details."""

from __future__ import annotations

import json
import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from ..diagnostics import Diagnostics, help_
from ..frontend import limits as L
from ..frontend.syntax import CONTROL_CHARACTERS
from ..ir import Span
from . import codes
from . import mlx_text as T
from .json_positions import JsonLocator, nesting_past, offset_span
from .names import NameAllocator, identifier
from .result import ImportResult
from .unicode import SURROGATE_ESCAPE, join_surrogates
from .wfformat_read import ShapeError, WfMachine, WfTask, WfWorkflow, read

# The wall-time limit asked for a task: twice its measured runtime, rounded up
# to a whole minute, so that a slower machine does not get it killed.
_TIME_FACTOR = 2.0
# What a stage asks for when the instance does not say (the IR's defaults).
_DEFAULT_CPUS = 1
_DEFAULT_MEMORY = 2 * 1024**3
# WfCommons names generated files by a random UUID and an extension; the UUID
# makes a useless port name, the extension a good one (`fits`, `fits_2`).
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


# The name the site catalog (`--sites`) is written under, next to the
# experiment, which imports it by this name.
SITES_FILE = "sites.mlx"


def import_wfformat(path: Path, *, sites: bool = False) -> ImportResult:
    diags = Diagnostics()
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        diags.error(codes.UNREADABLE, f"cannot read {file}: {error}", None)
        return ImportResult("", diags.sorted())
    deep = nesting_past(text, L.MAX_NESTING)
    if deep is not None:
        diags.error(codes.JSON_SYNTAX, f"the JSON is nested more than {L.MAX_NESTING} deep",
                    offset_span(text, deep, 1, file),
                    help_("a WfFormat instance is a few levels deep"))
        return ImportResult("", diags.sorted())
    try:
        doc = json.loads(text, parse_int=_whole_number, parse_float=_finite_number,
                         parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        where = Span(file=file, line=error.lineno, column=error.colno,
                     end_line=error.lineno, end_column=error.colno + 1)
        diags.error(codes.JSON_SYNTAX, f"not valid JSON: {error.msg}", where)
        return ImportResult("", diags.sorted())
    except _OutOfRange as error:
        at = text.find(error.text)
        diags.error(codes.JSON_SYNTAX, f"the number `{error.shown}` is out of range",
                    offset_span(text, at, len(error.text), file) if at >= 0 else None,
                    help_(error.hint))
        return ImportResult("", diags.sorted())
    if SURROGATE_ESCAPE.search(text):
        doc = _join_all_surrogates(doc)
    locator = JsonLocator(text, file)
    control = _control_character(doc, ())
    if control is not None:
        diags.error(codes.CONTROL_CHARACTER, "a string holds a control character "
                    f"(U+{ord(control[1]):04X})", locator.span(control[0]),
                    help_("mlx strings hold printable text, tabs and line breaks"))
        return ImportResult("", diags.sorted())
    try:
        workflow = read(doc)
    except ShapeError as error:
        diags.error(error.code, error.message, locator.span(error.path),
                    help_("WfFormat is described at https://github.com/wfcommons/WfFormat"))
        return ImportResult("", diags.sorted())
    translation = _Translation(workflow, locator, diags)
    if not translation.check_acyclic():
        return ImportResult("", diags.sorted())
    experiment = translation.experiment_text(
        Path(file).name, SITES_FILE if sites else None)
    sites_text = translation.sites_text(Path(file).name) if sites else None
    return ImportResult(experiment, diags.sorted(), sites_text)


@dataclass
class _Stage:
    name: str
    task: WfTask
    lines: list[str] = field(default_factory=list)  # ports, in order
    todos: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)


class _Translation:
    def __init__(self, workflow: WfWorkflow, locator: JsonLocator, diags: Diagnostics) -> None:
        self.workflow = workflow
        self.locator = locator
        self.diags = diags
        self.names = NameAllocator()
        self.experiment = identifier(workflow.name, "workflow")  # not a declaration name
        self.stages = {t.id: _Stage(self.names.allocate(t.id, "task"), t) for t in workflow.tasks}
        self.graph = nx.DiGraph()
        self.paths: dict[str, str] = {}  # file ID -> path in the work tree
        self.paths_taken: set[str] = set()
        self._connect()

    # --- data flow ---------------------------------------------------------------

    def _connect(self) -> None:
        producers: dict[str, tuple[_Stage, str]] = {}  # file -> (stage, output port)
        ports = {task_id: NameAllocator() for task_id in self.stages}
        outputs: dict[str, list[str]] = {task_id: [] for task_id in self.stages}
        for task_id, stage in self.stages.items():
            self.graph.add_node(task_id)
            for index, file_id in enumerate(stage.task.outputs):
                if file_id in producers:
                    self._output_twice(stage, file_id, producers[file_id][0], index)
                    continue
                port = ports[task_id].allocate(_port_name(file_id), "output")
                producers[file_id] = (stage, port)
                outputs[task_id].append(f"out {port} = {self._file(file_id)}")
        for task_id, stage in self.stages.items():
            inputs = []
            for index, file_id in enumerate(stage.task.inputs):
                port = ports[task_id].allocate(_port_name(file_id), "input")
                producer = producers.get(file_id)
                if producer is None:
                    inputs.append(f"in {port} = {self._file(file_id)}")
                elif producer[0] is stage:
                    self._reads_own_output(stage, file_id, index)
                else:
                    inputs.append(f"in {port} = {producer[0].name}.{producer[1]}")
                    self.graph.add_edge(producer[0].task.id, task_id)
            stage.lines = inputs + outputs[task_id]
        for task_id, stage in self.stages.items():
            for parent in stage.task.parents:
                if not self.graph.has_edge(parent, task_id):  # a self-parent is a cycle
                    self.graph.add_edge(parent, task_id)
                    stage.after.append(self.stages[parent].name)

    def _file(self, file_id: str) -> str:
        path = T.string(self._work_path(file_id))
        size = self.workflow.file_sizes.get(file_id)
        if size is None:
            return f"file({path})"
        return f"file({path}, size = {T.size(size)})"

    def _work_path(self, file_id: str) -> str:
        """Where a file lives in the work tree: its ID, made relative (1.4
        traces may carry absolute paths) and without `..`; distinct IDs keep
        distinct paths."""
        if file_id not in self.paths:
            parts = [part if part != ".." else "__" for part in file_id.split("/")
                     if part not in ("", ".")]
            path = base = "/".join(parts).replace("\n", " ") or "file"
            counter = 2
            while path in self.paths_taken:
                path = f"{base}.{counter}"
                counter += 1
            self.paths[file_id] = path
            self.paths_taken.add(path)
        return self.paths[file_id]

    def _output_twice(self, stage: _Stage, file_id: str, first: _Stage, index: int) -> None:
        message = f"`{file_id}` is already an output of task `{first.task.id}`"
        self.diags.warning(codes.OUTPUT_TWICE, message,
                           self._where(stage.task, "outputFiles", index),
                           help_("an mlx output has one producer; the later one is left out"))
        stage.todos.append(f"{message}; output not translated")

    def _reads_own_output(self, stage: _Stage, file_id: str, index: int) -> None:
        message = f"task `{stage.task.id}` reads `{file_id}`, which it writes itself"
        self.diags.warning(codes.SELF_INPUT, message, self._where(stage.task, "inputFiles", index),
                           help_("the input is left out"))
        stage.todos.append(f"{message}; input not translated")

    def _where(self, task: WfTask, key: str, index: int) -> Span | None:
        # 1.4 lists files under `files`; the exact entry is not tracked, the task is.
        path = task.path + (key, index) if self.workflow.version != "1.4" else task.path
        return self.locator.span(path)

    def check_acyclic(self) -> bool:
        if nx.is_directed_acyclic_graph(self.graph):  # fast; find_cycle is not
            return True
        cycle = nx.find_cycle(self.graph)
        tasks = [edge[0] for edge in cycle]
        first = self.stages[tasks[0]].task
        self.diags.error(
            codes.WF_CYCLE,
            "the task dependencies form a cycle: " + " -> ".join(tasks + [tasks[0]]),
            self.locator.span(first.path),
        )
        return False

    # --- rendering ---------------------------------------------------------------

    def experiment_text(self, source: str, sites_file: str | None) -> str:
        description = self.workflow.description or self.workflow.name
        parts = [T.comment(f"Imported by `mlc import wfformat` from {source} "
                           f"(WfFormat {self.workflow.version}).")]
        if sites_file is not None:
            parts.append(f"import {T.string(sites_file)}")
        parts.append(T.Block(f"experiment {self.experiment}",
                             ["description = " + T.string(description)]).render())
        parts.extend(self._stage_block(stage) for stage in self.stages.values())
        return T.document(parts)

    def _stage_block(self, stage: _Stage) -> str:
        task = stage.task
        lines = [T.comment(f"TODO: {todo}") for todo in stage.todos] + list(stage.lines)
        if task.cores is not None:
            lines.append(f"cpus = {max(1, math.ceil(task.cores))}")
        if task.memory:
            lines.append(f"memory = {T.memory(task.memory)}")
        if task.runtime is not None:
            minutes = max(1, math.ceil(task.runtime * _TIME_FACTOR / 60))
            lines.append(f"time = {T.duration(minutes * 60)}")
            lines.append(f"estimate = {T.duration(task.runtime)}")
        if stage.after:
            lines.append("after = [" + ", ".join(stage.after) + "]")
        command = shlex.join([task.program or task.name, *task.arguments])
        lines.append("run = " + T.string(command))
        return T.Block(f"stage {stage.name}", lines).render()

    def sites_text(self, source: str) -> str:
        header = T.comment(f"Sites for the WfFormat instance {source}, "
                           "written by `mlc import wfformat --sites`.")
        if not self.workflow.machines:
            return T.document([header, self._local_site()])
        return T.document([header, self._cluster_site()])

    def _largest_task(self) -> tuple[int, int]:
        cpus = max((math.ceil(t.cores) for t in self.workflow.tasks if t.cores), default=1)
        memory = max((t.memory for t in self.workflow.tasks if t.memory), default=0)
        return max(cpus, _DEFAULT_CPUS), max(memory, _DEFAULT_MEMORY)

    def _local_site(self) -> str:
        """No machines in the instance (a synthetic one): one local machine
        that fits the largest task."""
        cpus, memory = self._largest_task()
        memory_gib = math.ceil(memory / 1024**3) * 1024**3
        return T.Block("site local : local", [f"cpus = {cpus}",
                                              f"memory = {T.size(memory_gib)}"]).render()

    def _cluster_site(self) -> str:
        """The machines of a real trace as one Slurm site, a partition per
        machine shape (cores, memory)."""
        cpus_needed, memory_needed = self._largest_task()
        shapes: dict[tuple[int, int], int] = {}
        for machine in self.workflow.machines:
            shape = self._shape(machine, cpus_needed, memory_needed)
            shapes[shape] = shapes.get(shape, 0) + 1
        names = NameAllocator()
        lines = []
        for (cpus, memory), count in sorted(shapes.items()):
            name = names.allocate(f"cpu{cpus}_mem{T.memory(memory)}", "nodes")
            lines += [f"partition {name} {{",
                      f"{T.INDENT}nodes = {count}; cpus = {cpus}; memory = {T.memory(memory)}",
                      "}"]
        return T.Block("site cluster : slurm", lines).render()

    def _shape(self, machine: WfMachine, cpus: int, memory: int) -> tuple[int, int]:
        missing = [what for what, value in (("core count", machine.cores),
                                            ("memory", machine.memory)) if not value]
        if missing:
            self.diags.warning(
                codes.MACHINE_INCOMPLETE,
                f"machine `{machine.name}` has no {' or '.join(missing)}",
                self.locator.span(machine.path),
                help_("the site assumes what the largest task needs; edit the catalog"),
            )
        return machine.cores or cpus, machine.memory or memory


class _OutOfRange(ValueError):
    def __init__(self, text: str, hint: str) -> None:
        super().__init__(text)
        self.text = text
        self.shown = text if len(text) <= 40 else text[:20] + "..."
        self.hint = hint


def _whole_number(text: str) -> int:
    # Checked on the text: int() of thousands of digits is refused (and slow).
    if len(text.lstrip("-")) > 19 or abs(int(text)) > L.MAX_WHOLE:
        raise _OutOfRange(text, f"whole numbers are at most {L.MAX_WHOLE} in size")
    return int(text)


def _finite_number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise _OutOfRange(text, "numbers are at most about 1.8e308 in size")
    return value


def _no_constant(text: str) -> float:
    raise _OutOfRange(text, "NaN and Infinity are not JSON numbers")


def _control_character(value: object, path: tuple) -> tuple[tuple, str] | None:
    """(path, character) of the first string, key or value, that holds a
    control character other than tab and line feed; None when none does."""
    if isinstance(value, str):
        m = CONTROL_CHARACTERS.search(value)
        return (path, m.group()) if m else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and (m := CONTROL_CHARACTERS.search(key)):
            return path + (key,), m.group()
        found = _control_character(item, path + (key,))
        if found is not None:
            return found
    return None


def _join_all_surrogates(value: object) -> object:
    if isinstance(value, str):
        return join_surrogates(value)
    if isinstance(value, list):
        return [_join_all_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {join_surrogates(k): _join_all_surrogates(v) for k, v in value.items()}
    return value


def _port_name(file_id: str) -> str:
    return _UUID.sub("", file_id)
