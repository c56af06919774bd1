"""A WfFormat DAG as a WDL 1.1 workflow for `miniwdl check`: one task per
distinct task kind, one call per WfFormat task. Calls are wired through
their file outputs (`producer.outputs[i]`), ordering-only parents through
`after`, so miniwdl sees the same DAG that mlc and Snakemake see. Files no
task writes are the workflow's inputs."""

from __future__ import annotations

import json
from pathlib import Path

from .dag import Dag
from .idents import Identifiers

# Every kind has the same interface: files in, named files out.
_TASK = """\
task {name} {{
  input {{
    Array[File] inputs
    Array[String] output_names
  }}
  command <<<
    cat ~{{sep(" ", inputs)}} > /dev/null
    touch ~{{sep(" ", output_names)}}
  >>>
  output {{
    Array[File] outputs = output_names
  }}
}}
"""


def _literal(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid WDL string literal


def render(dag: Dag) -> str:
    kinds = Identifiers("K_")
    calls = Identifiers("C_")
    sources = Identifiers("S_")
    position: dict[str, tuple[str, int]] = {}  # file ID -> (call name, index in its outputs)
    for task in dag.tasks:
        for index, file_id in enumerate(task.outputs):
            position.setdefault(file_id, (calls(task.id), index))

    parts = ["version 1.1\n"]
    parts += [_TASK.format(name=kinds(kind)) for kind in sorted({t.name for t in dag.tasks})]
    body = []
    for task in dag.tasks:
        inputs = []
        for file_id in task.inputs:
            if file_id in position:
                call, index = position[file_id]
                inputs.append(f"{call}.outputs[{index}]")
            else:
                inputs.append(sources(file_id))
        after = "".join(f" after {calls(p)}" for p in dag.order_only_parents(task))
        outputs = ", ".join(_literal("data/" + f) for f in task.outputs)
        body.append(
            f"  call {kinds(task.name)} as {calls(task.id)}{after} {{\n"
            f"    input:\n"
            f"      inputs = [{', '.join(inputs)}],\n"
            f"      output_names = [{outputs}]\n"
            f"  }}\n")
    declarations = "".join(f"    File {sources(f)}\n" for f in dag.sources)
    parts.append("workflow " + Identifiers("W_")(dag.workflow.name) + " {\n"
                 + "  input {\n" + declarations + "  }\n" + "".join(body) + "}\n")
    return "\n".join(parts)


def write(dag: Dag, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "workflow.wdl"
    path.write_text(render(dag), encoding="utf-8")
    return path
