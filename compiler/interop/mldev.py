"""`mlc import mldev experiment.yml`: an MLDev experiment as an .mlx file.

Stages become stages, their `params` become experiment parameters, inputs and
outputs become ports (an input another stage writes is a reference to that
stage's output; any other is a project file), `${...}` expressions become
interpolations, and the order of each pipeline becomes `after = [...]` where
the data does not already imply it. What has no equivalent is a warning plus
a `// TODO` in the output. docs/interop.md has the details."""

from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Literal

import networkx as nx
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .. import shell_context
from ..diagnostics import Diagnostics, help_
from ..frontend import limits as L
from ..frontend.schema import IMPLICIT_LOCAL
from ..frontend.syntax import CONTROL_CHARACTERS
from ..ir import Span
from . import codes
from . import mldev_expr as X
from . import mlx_text as T
from . import yaml_nodes as Y
from .mldev_model import Model, ModelReader, PathSpec, StageDef
from .names import NameAllocator, identifier
from .result import ImportResult


def import_mldev(path: Path) -> ImportResult:
    diags = Diagnostics()
    file = str(path)
    root = _read(path, file, diags)
    if root is None:
        return ImportResult("", diags.sorted())
    model = ModelReader(root, file, diags).read()
    text = _Translator(model, file, diags, experiment=identifier(path.stem, "experiment")).render()
    return ImportResult(text, diags.sorted())


def _read(path: Path, file: str, diags: Diagnostics) -> MappingNode | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        diags.error(codes.UNREADABLE, f"cannot read {file}: {error}", None)
        return None
    try:
        root = Y.compose(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Y.mark_span(mark, file) if mark else None
        problem = error.problem or error.context or "malformed YAML"
        diags.error(codes.YAML_SYNTAX, f"not valid YAML: {problem}", where)
        return None
    except yaml.YAMLError as error:
        diags.error(codes.YAML_SYNTAX, f"not valid YAML: {error}", None)
        return None
    except RecursionError:
        diags.error(codes.YAML_SYNTAX, "the YAML is nested too deeply to read", None)
        return None
    if root is not None and (looped := Y.recursive_alias(root)) is not None:
        diags.error(codes.MLDEV_SHAPE, "an anchor is used inside itself (a recursive alias)",
                    Y.span(looped, file))
        return None
    if root is not None and (past := Y.oversized(root, L.MAX_NESTING, L.MAX_DOCUMENT_NODES)):
        node, limit = past
        if limit == "nesting":
            diags.error(codes.MLDEV_SHAPE, f"the YAML is nested more than {L.MAX_NESTING} deep",
                        Y.span(node, file), help_("an MLDev experiment is a few levels deep"))
        else:
            diags.error(codes.MLDEV_SHAPE, f"with its aliases expanded, the YAML has more than "
                        f"{L.MAX_DOCUMENT_NODES} nodes (an alias bomb?)", Y.span(node, file),
                        help_("each alias is a copy of its anchor; aliases of aliases multiply"))
        return None
    for node in Y.scalars(root) if root is not None else ():
        if (control := CONTROL_CHARACTERS.search(node.value)) is not None:
            diags.error(codes.CONTROL_CHARACTER, "a string holds a control character "
                        f"(U+{ord(control.group()):04X})", Y.span(node, file),
                        help_("mlx strings hold printable text, tabs and line breaks"))
            return None
    if not isinstance(root, MappingNode):
        where = Y.span(root, file) if root is not None else None
        diags.error(codes.MLDEV_SHAPE, "an MLDev experiment must be a mapping of named objects",
                    where)
        return None
    return root


@dataclass
class _Param:
    name: str
    type: str
    value: object


@dataclass
class _Port:
    direction: Literal["in", "out"]
    name: str
    spec: PathSpec
    producer: tuple[str, str] | None = None  # (stage, output) feeding this input
    dataset: str | None = None  # the data set an input outside the project reads
    suffix: str = ""  # the input's path below the producer's output folder


@dataclass
class _StageOut:
    """Everything rendered for one stage."""

    name: str
    ports: list[_Port] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)


class _Translator:
    def __init__(self, model: Model, file: str, diags: Diagnostics, experiment: str) -> None:
        self.model = model
        self.file = file
        self.diags = diags
        # data sets are `at` the implicit local site, so nothing may take its name
        self.names = NameAllocator(reserved={IMPLICIT_LOCAL["name"]})
        self.experiment = experiment  # not a declaration name: it cannot clash
        self.params: list[_Param] = []
        self.param_by_node: dict[int, str] = {}
        self.out: dict[int, _StageOut] = {}  # by id of the stage node
        self.spec_by_node: dict[int, PathSpec] = {}
        self.untranslated = list(model.untranslated)  # top-level TODOs: (node, what)
        self.datasets: dict[str, str] = {}  # location -> data set name
        self.graph = nx.DiGraph()  # stage names; data, then `after`, edges
        for stage in model.stages:
            self.out[id(stage.node)] = _StageOut(self.names.allocate(stage.name, "stage"),
                                                 todos=list(stage.todos))
            self.graph.add_node(self.out[id(stage.node)].name)
            for spec in stage.inputs + stage.outputs:
                self.spec_by_node.setdefault(id(spec.node), spec)

    def render(self) -> str:
        for stage in self.model.stages:
            if stage.params is not None:
                self._declare_params(self.out[id(stage.node)].name, stage.params)
        self._connect_ports()
        self._order_pipelines()
        stage_blocks = [self._stage_block(stage) for stage in self.model.stages]
        parts = [
            T.comment(f"Imported by `mlc import mldev` from {Path(self.file).name}."),
            T.Block(f"experiment {self.experiment}", [
                "description = " + T.string(f"Imported from MLDev {T.printable(Path(self.file).name)}"),
            ]).render(),
            self._untranslated_comments(),
            "\n".join(f"param {p.name}: {p.type} = {T.value(p.value)}" for p in self.params),
            *(T.Block(f"dataset {name}", [f"uri = {T.string(location)}",
                                          f"at = {IMPLICIT_LOCAL['name']}"]).render()
              for location, name in self.datasets.items()),
            *stage_blocks,
        ]
        return T.document(parts)

    # --- parameters ------------------------------------------------------------

    def _declare_params(self, prefix: str, params: MappingNode) -> None:
        for key, _, value in Y.mapping_items(params):
            self._declare_param(f"{prefix}_{key}", value)

    def _declare_param(self, raw_name: str, node: Node) -> None:
        if id(node) in self.param_by_node or Y.custom_tag(node) is not None:
            return  # shared through an alias, or a tag already reported
        if isinstance(node, MappingNode):
            for key, _, value in Y.mapping_items(node):
                self._declare_param(f"{raw_name}_{key}", value)
            return
        typed = _typed_value(node)
        if typed is None:
            self.diags.warning(
                codes.PARAM_VALUE,
                f"parameter `{raw_name}` has no mlx type (null, mixed list, or a number out of range)",
                self._span(node),
                help_("mlx parameters are int, float, str, bool or a list of one"),
            )
            self.untranslated.append((node, f"parameter `{raw_name}` (no mlx type)"))
            return
        name = self.names.allocate(raw_name, "param")
        self.param_by_node[id(node)] = name
        self.params.append(_Param(name, *typed))
        if isinstance(typed[1], str) and any(len(p) == 3 for p in X.split(typed[1])):
            # A parameter's value is plain data in mlx; MLDev evaluates it.
            self.diags.warning(
                codes.EXPRESSION, f"the expression in parameter `{raw_name}` is kept as text",
                self._span(node), help_("use the parameter in a `run` command instead"),
            )
            self.untranslated.append((node, f"expression in parameter `{name}` kept as text"))

    def _root_param(self, key: str, node: ScalarNode) -> str | None:
        """A top-level scalar that an expression reads becomes a parameter."""
        if id(node) not in self.param_by_node:
            self._declare_param(key, node)
        return self.param_by_node.get(id(node))

    # --- data flow -------------------------------------------------------------

    def _connect_ports(self) -> None:
        producers: dict[str, tuple[StageDef, _Port]] = {}
        allocators = {id(s.node): NameAllocator() for s in self.model.stages}
        for stage in self.model.stages:
            out = self.out[id(stage.node)]
            for spec in stage.outputs:
                if _outside_project(spec.path):
                    self._output_outside(stage, spec)
                    continue
                if spec.path in producers:
                    first = self.out[id(producers[spec.path][0].node)].name
                    self._output_twice(stage, spec, first)
                    continue
                name = allocators[id(stage.node)].allocate(posixpath.basename(spec.path), "output")
                port = _Port("out", name, spec)
                producers[spec.path] = (stage, port)
                out.ports.append(port)
        links: list[tuple[StageDef, _Port, StageDef, _Port, str]] = []
        for stage in self.model.stages:
            out = self.out[id(stage.node)]
            for spec in stage.inputs:
                name = allocators[id(stage.node)].allocate(posixpath.basename(spec.path), "input")
                port = _Port("in", name, spec)
                found = _producer(spec.path, producers, stage)
                if found is not None:
                    links.append((stage, port, *found))
                elif _outside_project(spec.path):
                    port.dataset = self._dataset(spec.path)
                out.ports.append(port)
        self._link(links)

    def _link(self, links: list[tuple[StageDef, _Port, StageDef, _Port, str]]) -> None:
        """Bind inputs to the outputs that produce them, unless that closes a
        cycle: MLDev runs stages in pipeline order, so a stage reading what a
        later one writes reads the file as it was. Links that follow the run
        order are made first (they cannot form a cycle), then the others."""
        rank = self._run_order()
        forward = [link for link in links if rank[id(link[2].node)] < rank[id(link[0].node)]]
        backward = [link for link in links if rank[id(link[2].node)] >= rank[id(link[0].node)]]
        for consumer, port, producer, output, suffix in forward + backward:
            first, then = self.out[id(producer.node)].name, self.out[id(consumer.node)].name
            if nx.has_path(self.graph, then, first):
                self._read_as_it_was(consumer, port, first)
                continue
            self.graph.add_edge(first, then)
            port.producer = (first, output.name)
            port.suffix = suffix

    def _run_order(self) -> dict[int, int]:
        """Stage node id -> position: pipeline order first, then the document's."""
        rank: dict[int, int] = {}
        for pipeline in self.model.pipelines:
            for unit in pipeline.units:
                if self.model.stage_of(unit) is not None:
                    rank.setdefault(id(unit), len(rank))
        for stage in self.model.stages:
            rank.setdefault(id(stage.node), len(rank))
        return rank

    def _read_as_it_was(self, stage: StageDef, port: _Port, producer: str) -> None:
        self.diags.warning(
            codes.DATA_CYCLE,
            f"`{port.spec.path}` is written by `{producer}`, which runs after this stage "
            "and depends on it", self._span(port.spec.node),
            help_("it is read as the project file that exists before the run"),
        )
        self.out[id(stage.node)].todos.append(
            f"`{port.spec.path}` read as a project file, not from `{producer}` (a cycle)")

    def _dataset(self, path: str) -> str:
        """Data outside the project folder (`/data/raw`, `../shared`) is a data
        set on the local machine: mlx ports only name paths inside the work tree.
        A relative one is resolved against the experiment's folder, where MLDev
        runs."""
        location = path
        if not path.startswith("/"):
            folder = Path(self.file).resolve().parent.as_posix()
            location = posixpath.normpath(posixpath.join(folder, path))
        if location not in self.datasets:
            self.datasets[location] = self.names.allocate(posixpath.basename(location), "data")
        return self.datasets[location]

    def _output_outside(self, stage: StageDef, spec: PathSpec) -> None:
        where = "the project folder itself" if spec.path == "." else "outside the project folder"
        message = f"output `{spec.path}` is {where}"
        self.diags.warning(codes.OUTSIDE_OUTPUT, message, self._span(spec.node),
                           help_("mlx outputs live in the work tree; write it there and copy it"))
        self.out[id(stage.node)].todos.append(f"{message}; output not translated")

    def _output_twice(self, stage: StageDef, spec: PathSpec, first: str) -> None:
        message = f"`{spec.path}` is already an output of stage `{first}`"
        self.diags.warning(
            codes.OUTPUT_TWICE, message, self._span(spec.node),
            help_("an mlx output has one producer; the later one is left out"),
        )
        self.out[id(stage.node)].todos.append(f"{message}; output not translated")

    def _order_pipelines(self) -> None:
        """`after` for each pair of consecutive stages of a pipeline that the
        data flow does not already order."""
        for pipeline in self.model.pipelines:
            order: list[tuple[StageDef, Node]] = []
            for unit in pipeline.units:
                stage = self.model.stage_of(unit)
                if stage is not None and (not order or order[-1][0] is not stage):
                    order.append((stage, unit))
            for (before, _), (stage, unit) in pairwise(order):
                first, then = self.out[id(before.node)].name, self.out[id(stage.node)].name
                if nx.has_path(self.graph, first, then):
                    continue
                if nx.has_path(self.graph, then, first):
                    self.diags.warning(
                        codes.ORDER_CONFLICT,
                        f"pipeline `{pipeline.name}` runs `{then}` after `{first}`, "
                        f"but `{then}` produces data `{first}` reads",
                        self._span(unit), help_("the data flow is kept; the pipeline order is not"),
                    )
                    continue
                self.graph.add_edge(first, then)
                self.out[id(stage.node)].after.append(first)

    # --- strings and expressions ---------------------------------------------------

    def _text(self, stage: StageDef | None, node: ScalarNode, ports: bool) -> list[T.Piece]:
        """A scalar's text with its `${...}` expressions translated; one that
        cannot be is kept as literal text, reported and marked TODO."""
        text = str(node.value)
        pieces: list[T.Piece] = []
        for piece in X.split(text):
            if len(piece) == 2:
                pieces.append(piece[0])
                continue
            source, offset, inner = piece
            reference = X.parse(inner)
            translated = self._reference(stage, reference, ports) if reference else None
            if translated is None:
                self._untranslatable(stage, node, source, offset)
                pieces.append(source)
            else:
                pieces.extend(translated)
        return pieces

    def _untranslatable(self, stage: StageDef | None, node: ScalarNode, source: str,
                        offset: int) -> None:
        self.diags.warning(
            codes.EXPRESSION, f"expression `{source}` is not translated",
            self._span(node, offset, len(source)),
            help_("translated: ${self.params.x}, ${root.<stage>.outputs[i].path}, "
                  "${env.VAR}, ${path(...)}"),
        )
        if stage is not None:
            self.out[id(stage.node)].todos.append(f"expression `{source}` kept as literal text")

    def _reference(self, stage: StageDef | None, ref: X.Reference,
                   ports: bool) -> list[T.Piece] | None:
        if ref.function not in (None, "path"):
            return None
        if ref.head == "env":
            if len(ref.steps) == 1 and isinstance(ref.steps[0], str):
                return ["${" + ref.steps[0] + "}"]  # literal text: the shell expands it
            return None
        if ref.head == "self" and stage is not None:
            node: Node | None = stage.node
        elif ref.head == "root":
            node = self.model.root
            if len(ref.steps) == 1 and isinstance(ref.steps[0], str):
                target = Y.get(node, ref.steps[0])
                if isinstance(target, ScalarNode) and Y.custom_tag(target) is None:
                    param = self._root_param(ref.steps[0], target)
                    return [T.Interp(param)] if param else None
        else:
            return None
        steps = list(ref.steps)
        while steps and node is not None:
            spec = self.spec_by_node.get(id(node))
            if spec is not None:
                return self._path_reference(stage, spec, steps, ports)
            step = steps.pop(0)
            named = self.model.stage_of(node)
            if named is not None and step == "name" and not steps:
                return [named.name]
            node = _step(node, step)
        if node is None:
            return None
        spec = self.spec_by_node.get(id(node))
        if spec is not None:
            return self._path_reference(stage, spec, [], ports)
        if id(node) in self.param_by_node:
            return [T.Interp(self.param_by_node[id(node)])]
        if isinstance(node, ScalarNode) and Y.custom_tag(node) is None:
            return [str(node.value)]
        return None

    def _path_reference(self, stage: StageDef | None, spec: PathSpec, steps: list,
                        ports: bool) -> list[T.Piece] | None:
        """`.path` or `.files[i]` of a `!path`: the stage's own port when it has
        one for it, the literal path otherwise."""
        if steps in ([], ["path"]):
            below = ""
        elif len(steps) == 2 and steps[0] == "files" and isinstance(steps[1], int) \
                and -len(spec.files) <= steps[1] < len(spec.files):
            below = "/" + spec.files[steps[1]]
        else:
            return None
        if ports and stage is not None:
            for port in self.out[id(stage.node)].ports:
                if port.spec.node is spec.node or port.spec.path == spec.path:
                    tail = port.suffix + below
                    return [T.Interp(f"{port.direction}.{port.name}")] + ([tail] if tail else [])
        return [spec.path + below]

    # --- rendering -------------------------------------------------------------------

    def _stage_block(self, stage: StageDef) -> str:
        out = self.out[id(stage.node)]
        lines: list[str] = []
        for port in sorted(out.ports, key=lambda p: p.direction != "in"):
            lines.append(f"{port.direction} {port.name} = {self._port_value(stage, port)}")
        if stage.env is not None:
            lines.append("env = " + self._env(stage, stage.env))
        if out.after:
            lines.append("after = [" + ", ".join(out.after) + "]")
        lines.append("run = " + self._run(stage))
        todos = [T.comment(f"TODO: {todo}") for todo in out.todos]
        return T.Block(f"stage {out.name}", todos + lines).render()

    def _port_value(self, stage: StageDef, port: _Port) -> str:
        if port.producer is not None:
            return f"{port.producer[0]}.{port.producer[1]}"
        if port.dataset is not None:
            return port.dataset
        path: list[T.Piece] = [port.spec.path]
        if "${" in port.spec.path:
            path = self._path_text(stage, port.spec)
        return f"{port.spec.kind}({T.string(path)})"

    def _path_text(self, stage: StageDef, spec: PathSpec) -> list[T.Piece]:
        """A path with expressions (`${root.data_dir}/raw`) translated."""
        node = spec.node if isinstance(spec.node, ScalarNode) else Y.get(spec.node, "path")
        if not isinstance(node, ScalarNode):
            return [spec.path]
        return self._text(stage, node, ports=False)

    def _env(self, stage: StageDef, env: MappingNode) -> str:
        items = []
        for key, key_node, value in Y.mapping_items(env):
            if not _ENV_NAME.fullmatch(key):
                self.diags.warning(codes.ENV_VARIABLE,
                                   f"`{key}` is not an environment variable name",
                                   self._span(key_node))
                self.out[id(stage.node)].todos.append(f"environment variable `{key}` left out")
            elif isinstance(value, ScalarNode) and Y.custom_tag(value) is None:
                # mlx ports exist only in `run`; elsewhere a path is the
                # literal path, relative to the work tree like the ports'.
                text = self._text(stage, value, ports=False) if not Y.is_null(value) else [""]
                items.append(f"{T.map_key(key)}: {T.string(text)}")
            elif Y.custom_tag(value) is None:
                self.diags.warning(codes.ENV_VARIABLE, f"environment variable `{key}` is not a "
                                   "string", self._span(value))
                self.out[id(stage.node)].todos.append(f"environment variable `{key}` left out")
        return "{" + ", ".join(items) + "}"

    def _run(self, stage: StageDef) -> str:
        commands = []
        for line in stage.script:
            command = _strip_newlines(self._text(stage, line, ports=True))
            if command and self._readable(line, command):
                commands.append(command)
        if not commands:
            self.out[id(stage.node)].todos.append("the MLDev stage has no script")
            return T.string("true")
        if len(commands) == 1 and T.is_short(commands[0]):
            return T.string(commands[0])
        joined: list[T.Piece] = []
        for index, command in enumerate(commands):
            if index:
                joined.append(" &&\n")
            if any(isinstance(p, str) and "\n" in p for p in command):
                # A multi-line script item (a heredoc, say) is grouped so that
                # the `&&` after it joins the whole item.
                joined.extend(["{\n", *command, "\n}"])
            else:
                joined.extend(command)
        return T.string(joined, block=True)

    def _readable(self, line: Node, command: list[T.Piece]) -> bool:
        """A script line that bash cannot read (an unclosed quote, say) is
        refused here, where it was written, rather than in the .mlx it would
        become (E0510 there)."""
        pieces = [p if isinstance(p, str) else shell_context.Site("value", ("x",)) for p in command]
        try:
            shell_context.render(pieces)
        except shell_context.ShellSyntaxError as error:
            self.diags.error(codes.SCRIPT_SYNTAX, f"mlc cannot read this script line as shell: {error}",
                             self._span(line), help_("MLDev would fail on it too: fix the line"))
            return False
        except shell_context.SiteError:
            pass  # a value's place is checked when the .mlx is: the line itself reads
        return True

    def _untranslated_comments(self) -> str:
        if not self.untranslated:
            return ""
        lines = ["// TODO: not translated (see the warnings of `mlc import mldev`):"]
        for node, what in sorted(self.untranslated, key=lambda item: item[0].start_mark.index):
            lines.append(T.comment(f"  {Path(self.file).name}:{node.start_mark.line + 1}: {what}"))
        return "\n".join(lines)

    def _span(self, node: Node, offset: int | None = None, length: int = 0) -> Span:
        """The node's span; with `offset`, the exact columns of a piece of a
        single-line plain or quoted scalar."""
        whole = Y.span(node, self.file)
        if offset is None or not isinstance(node, ScalarNode) or "\n" in str(node.value) \
                or node.style not in (None, '"', "'") or whole.line != whole.end_line:
            return whole
        column = whole.column + offset + (1 if node.style else 0)
        return Span(file=self.file, line=whole.line, column=column, end_line=whole.line,
                    end_column=column + length)


def _outside_project(path: str) -> bool:
    """Not a path inside the project folder: mlx ports name paths in the work
    tree, which the folder itself (`.`, or an empty `path:`) is not."""
    return path.startswith("/") or path in (".", "..") or path.startswith("../")


def _producer(path: str, producers: dict[str, tuple[StageDef, _Port]],
              consumer: StageDef) -> tuple[StageDef, _Port, str] | None:
    """The other stage whose output is `path`, or the folder holding it
    (then with the rest of the path)."""
    exact = producers.get(path)
    if exact is not None:
        return (*exact, "") if exact[0] is not consumer else None
    folders = [p for p, (s, port) in producers.items()
               if port.spec.kind == "dir" and s is not consumer and path.startswith(p + "/")]
    if not folders:
        return None
    folder = max(folders, key=len)
    stage, port = producers[folder]
    return stage, port, path[len(folder):]


def _step(node: Node, step: X.Step) -> Node | None:
    if isinstance(step, str):
        return Y.get(node, step)
    if isinstance(node, SequenceNode) and -len(node.value) <= step < len(node.value):
        return node.value[step]
    return None


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPES = ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"))


def _scalar_type(value: object) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # .inf and .nan have no mlx literal
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > L.MAX_WHOLE:
        return None  # beyond the whole numbers mlx accepts (Y.TOO_LARGE is no type either)
    for python_type, name in _TYPES:
        if isinstance(value, python_type):
            return name
    return None


def _typed_value(node: Node) -> tuple[str, object] | None:
    """(mlx type, value) of a parameter; None when it has no mlx type."""
    if isinstance(node, ScalarNode):
        value = Y.scalar_value(node)
        kind = _scalar_type(value)
        return None if kind is None else (kind, value)
    if isinstance(node, SequenceNode):
        if not all(isinstance(i, ScalarNode) and Y.custom_tag(i) is None for i in node.value):
            return None
        values = [Y.scalar_value(i) for i in node.value]
        kinds = {_scalar_type(v) for v in values}
        if kinds == {"int", "float"}:
            return "list[float]", [float(v) for v in values]
        if len(kinds) == 1 and None not in kinds:
            return f"list[{kinds.pop()}]", values
    return None


def _strip_newlines(pieces: list[T.Piece]) -> list[T.Piece]:
    """A script item without the line breaks YAML block scalars end with."""
    pieces = list(pieces)
    while pieces and isinstance(pieces[-1], str) and pieces[-1].endswith("\n"):
        pieces[-1] = pieces[-1].rstrip("\n")
        if not pieces[-1]:
            pieces.pop()
    if all(isinstance(p, str) and not p.strip() for p in pieces):
        return []
    return pieces
