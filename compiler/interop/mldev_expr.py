"""MLDev's `${...}` expressions: finding them in a string and parsing the
forms the importer translates,

    ${self.params.x}   ${root.train.outputs[0].path}   ${env.HOME}
    ${path(self.inputs[0])}   ${self.outputs[0].files[1]}

into a function name (or None) and a reference: a head name followed by
`.name` and `[index]` steps. Anything else (arithmetic, other functions,
Python) parses to None and is reported by the caller."""

from __future__ import annotations

import re
from dataclasses import dataclass

_EXPRESSION = re.compile(r"\$\{([^{}]*)\}")
_CALL = re.compile(r"\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", re.DOTALL)
_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[\s*(-?\d+)\s*\]")
_HEAD = re.compile(r"\s*([A-Za-z_]\w*)")

Step = str | int  # a mapping key or a list index


@dataclass(frozen=True)
class Reference:
    function: str | None  # `path` in ${path(...)}; None for a bare reference
    head: str  # self, root, env, ...
    steps: tuple[Step, ...]


def split(text: str) -> list[tuple[str, int] | tuple[str, int, str]]:
    """The text as pieces in order: (literal, offset) and
    (expression source, offset, inner text) for each `${...}`."""
    pieces: list = []
    position = 0
    for match in _EXPRESSION.finditer(text):
        if match.start() > position:
            pieces.append((text[position : match.start()], position))
        pieces.append((match.group(0), match.start(), match.group(1)))
        position = match.end()
    if position < len(text):
        pieces.append((text[position:], position))
    return pieces


def parse(inner: str) -> Reference | None:
    function = None
    call = _CALL.match(inner)
    if call:
        function, inner = call.group(1), call.group(2)
    head = _HEAD.match(inner)
    if not head:
        return None
    steps: list[Step] = []
    position = head.end()
    rest = inner.rstrip()
    while position < len(rest):
        step = _STEP.match(rest, position)
        if not step:
            return None
        steps.append(step.group(1) if step.group(1) is not None else int(step.group(2)))
        position = step.end()
    return Reference(function, head.group(1), tuple(steps))
