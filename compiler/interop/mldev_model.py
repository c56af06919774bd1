"""What an MLDev experiment.yml declares, read from the positioned YAML nodes:
stages, pipelines, and everything the importer cannot translate (reported,
never dropped). Objects are identified by their YAML node, so an alias
(`- *train_stage`) is the same stage as its anchor."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Literal

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..diagnostics import Diagnostics, help_
from . import codes
from . import yaml_nodes as Y

STAGE_TAG = "BasicStage"
PIPELINE_TAG = "GenericPipeline"
PATH_TAG = "path"
FUNCTION_TAG = "function"
# MLDev's long-running helpers; they have no counterpart in an mlx stage DAG.
SERVICE_TAGS = frozenset({
    "MonitoringService", "NotificationBot", "TelegramBot", "ModelController",
    "Jupyter", "JupyterService", "TensorBoard", "TensorBoardService",
})
STAGE_FIELDS = ("name", "params", "env", "inputs", "outputs", "script")


@dataclass(eq=False)
class PathSpec:
    """An input or output: a `!path` (a folder, or a file, plus the `files`
    inside it) or a plain string."""

    node: Node
    path: str  # normalised, relative to the project
    files: list[str]
    kind: Literal["file", "dir"]


@dataclass(eq=False)
class StageDef:
    node: MappingNode
    name: str  # `name:`, else the key it is defined under
    params: MappingNode | None
    env: MappingNode | None
    inputs: list[PathSpec]
    outputs: list[PathSpec]
    script: list[ScalarNode]
    todos: list[str] = field(default_factory=list)  # what was read but not translated


@dataclass(eq=False)
class PipelineDef:
    node: Node
    name: str
    units: list[Node]  # in run order: stage, service or other nodes


@dataclass
class Model:
    root: MappingNode
    stages: list[StageDef] = field(default_factory=list)  # document order
    pipelines: list[PipelineDef] = field(default_factory=list)
    untranslated: list[tuple[Node, str]] = field(default_factory=list)  # node, TODO text

    def stage_of(self, node: Node) -> StageDef | None:
        for stage in self.stages:
            if stage.node is node:
                return stage
        return None


class ModelReader:
    """Walks the document once, reporting what it cannot translate."""

    def __init__(self, root: MappingNode, file: str, diags: Diagnostics) -> None:
        self.model = Model(root)
        self.file = file
        self.diags = diags
        self._seen: set[int] = set()

    def read(self) -> Model:
        for key, _, value in Y.mapping_items(self.model.root):
            self._visit(value, key)
        _one_kind_per_path(self.model)
        return self.model

    # --- dispatch on the tag -------------------------------------------------

    def _visit(self, node: Node, key: str) -> None:
        """A top-level value, a pipeline entry, or a value inside a stage."""
        if id(node) in self._seen:
            return  # an alias of something already read
        self._seen.add(id(node))
        tag = Y.custom_tag(node)
        if tag == STAGE_TAG:
            self._read_stage(node, key)
        elif tag == PIPELINE_TAG:
            self._read_pipeline(node, key)
        elif tag == PATH_TAG:
            pass  # a value, read where a stage lists it or an expression uses it
        elif tag is not None:
            self._report_tag(node, tag)
        elif isinstance(node, MappingNode):
            for sub_key, _, value in Y.mapping_items(node):
                self._visit(value, sub_key)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                self._visit(item, key)

    def _report_tag(self, node: Node, tag: str) -> None:
        where = Y.span(node, self.file)
        if tag in SERVICE_TAGS:
            self.diags.warning(
                codes.SERVICE, f"MLDev service `!{tag}` is not translated", where,
                help_("mlx services are long-running containers with a port; "
                      "declare one by hand if you need it"),
            )
            self.model.untranslated.append((node, f"MLDev service `!{tag}` (not translated)"))
        elif tag == FUNCTION_TAG:
            self.diags.warning(
                codes.FUNCTION, "`!function` (Python code run by MLDev) is not translated", where,
                help_("call the function from a stage's `run` command instead"),
            )
            self.model.untranslated.append((node, f"`!function {_text(node)}` (not translated)"))
        else:
            self.diags.warning(
                codes.UNKNOWN_TAG, f"custom tag `!{tag}` is not translated", where,
                help_("it names a Python class MLDev loads; mlc cannot know what it does"),
            )
            self.model.untranslated.append((node, f"custom tag `!{tag}` (not translated)"))

    # --- stages ----------------------------------------------------------------

    def _read_stage(self, node: Node, key: str) -> None:
        if not isinstance(node, MappingNode):
            self._shape_error(node, "a `!BasicStage` must be a mapping of its fields")
            return
        name = key
        name_node = Y.get(node, "name")
        if isinstance(name_node, ScalarNode) and not Y.is_null(name_node):
            name = str(name_node.value)
        ignored = []
        for field_key, key_node, _ in Y.mapping_items(node):
            if field_key not in STAGE_FIELDS:
                self.diags.warning(
                    codes.IGNORED_FIELD, f"field `{field_key}` of stage `{name}` is not translated",
                    Y.span(key_node, self.file),
                    help_(f"a `!BasicStage` is translated from: {', '.join(STAGE_FIELDS)}"),
                )
                ignored.append(f"field `{field_key}` not translated")
        stage = StageDef(
            node=node,
            name=name,
            params=self._mapping_field(node, "params"),
            env=self._mapping_field(node, "env"),
            inputs=self._paths(node, "inputs"),
            outputs=self._paths(node, "outputs"),
            script=self._script(node),
            todos=ignored,
        )
        self.model.stages.append(stage)
        for value in (Y.get(node, "params"), Y.get(node, "env")):
            if value is not None:
                self._visit_values(value)

    def _visit_values(self, node: Node) -> None:
        """Tags nested inside params or env: `!function` and the like."""
        if Y.custom_tag(node) is not None:
            self._visit(node, "")
        elif isinstance(node, MappingNode):
            for _, _, value in Y.mapping_items(node):
                self._visit_values(value)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                self._visit_values(item)

    def _mapping_field(self, stage: MappingNode, key: str) -> MappingNode | None:
        value = Y.get(stage, key)
        if Y.is_null(value):
            return None
        if Y.custom_tag(value) is not None:
            return None  # reported by _visit_values
        if not isinstance(value, MappingNode):
            self._shape_error(value, f"`{key}` must be a mapping")
            return None
        return value

    def _paths(self, stage: MappingNode, key: str) -> list[PathSpec]:
        value = Y.get(stage, key)
        if Y.is_null(value):
            return []
        items = value.value if isinstance(value, SequenceNode) else [value]
        paths = []
        for item in items:
            spec = self._path(item)
            if spec is not None:
                paths.append(spec)
        return paths

    def _path(self, node: Node) -> PathSpec | None:
        tag = Y.custom_tag(node)
        if tag == PATH_TAG and isinstance(node, MappingNode):
            path_node = Y.get(node, "path")
            files_node = Y.get(node, "files")
            if not isinstance(path_node, ScalarNode) or Y.is_null(path_node):
                self._shape_error(node, "a `!path` needs a `path:`")
                return None
            files: list[str] = []
            if isinstance(files_node, SequenceNode):
                files = [str(f.value) for f in files_node.value if isinstance(f, ScalarNode)]
            return _path_spec(node, str(path_node.value), files)
        if (tag == PATH_TAG or tag is None) and isinstance(node, ScalarNode):
            return _path_spec(node, str(node.value), [])
        if tag is not None:
            self._report_tag(node, tag)
        else:
            self._shape_error(node, "an input or output must be a `!path` or a path string")
        return None

    def _script(self, stage: MappingNode) -> list[ScalarNode]:
        value = Y.get(stage, "script")
        if Y.is_null(value):
            return []
        items = value.value if isinstance(value, SequenceNode) else [value]
        lines = []
        for item in items:
            if isinstance(item, ScalarNode) and Y.custom_tag(item) is None:
                lines.append(item)
            else:
                self._shape_error(item, "a script line must be a string")
        return lines

    # --- pipelines ---------------------------------------------------------------

    def _read_pipeline(self, node: Node, key: str) -> None:
        if not isinstance(node, MappingNode):
            self._shape_error(node, "a `!GenericPipeline` must be a mapping")
            return
        units: list[Node] = []
        for field_key in ("runs", "stages", "services"):
            value = Y.get(node, field_key)
            if isinstance(value, SequenceNode):
                units.extend(self._unit(item) for item in value.value)
            elif not Y.is_null(value):
                self._shape_error(value, f"`{field_key}` must be a list")
        units = [u for u in units if u is not None]
        self.model.pipelines.append(PipelineDef(node, key, units))
        for unit in units:
            self._visit(unit, key)

    def _unit(self, item: Node) -> Node | None:
        """A pipeline entry: a stage or service node, inline or aliased, or the
        name of a top-level one."""
        if isinstance(item, ScalarNode) and Y.custom_tag(item) is None:
            target = Y.get(self.model.root, str(item.value))
            if target is None:
                self.diags.warning(
                    codes.UNKNOWN_RUN, f"pipeline entry `{item.value}` names nothing in the file",
                    Y.span(item, self.file),
                )
                self.model.untranslated.append((item, f"pipeline entry `{item.value}` (unknown)"))
            return target
        return item

    def _shape_error(self, node: Node, message: str) -> None:
        self.diags.error(codes.MLDEV_SHAPE, message, Y.span(node, self.file))


def _one_kind_per_path(model: Model) -> None:
    """A path is a folder everywhere when any stage shows it is one (lists
    its `files`, or has no extension): one project has one thing there, and
    `mlc check` compares it with the disk (E0583)."""
    specs = [spec for stage in model.stages for spec in (*stage.inputs, *stage.outputs)]
    folders = {spec.path for spec in specs if spec.kind == "dir"}
    for spec in specs:
        if spec.path in folders:
            spec.kind = "dir"


def _text(node: Node) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else ""


def _path_spec(node: Node, raw: str, files: list[str]) -> PathSpec:
    path = posixpath.normpath(raw.strip()) if raw.strip() else "."
    # A folder when it lists files or has no extension; a file otherwise
    # (`./models/model.pkl`). MLDev itself does not distinguish the two.
    has_extension = bool(posixpath.splitext(posixpath.basename(path))[1])
    kind: Literal["file", "dir"] = "dir" if files or not has_extension else "file"
    return PathSpec(node=node, path=path, files=files, kind=kind)
