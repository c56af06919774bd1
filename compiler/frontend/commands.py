"""The layout of a `run` command: a triple-quoted command is indented with
the source, so its blank edges and common indentation are removed.

The command arrives as parts: text, and references (`${in.x}`/`${out.x}`
ports; any part that is not text is treated as an inline reference). Indentation is a property of source lines, not of parts: a
line may begin inside one text part and end in another, with ports between
them. So the parts are cut into lines first, and the indentation is measured
and removed line by line, the way `textwrap.dedent` does on plain text
(spaces and tabs are indentation; a line of only those counts as blank)."""

from __future__ import annotations

from .. import ir

Part = object  # ir.Text, or a reference the dedent keeps where it stands
_INDENT = " \t"


def trim_command(parts: list[Part]) -> list[Part]:
    """Drop leading blank lines, trailing whitespace and the common indentation."""
    # Text is handled as plain str inside, and made ir.Text once at the end.
    lines = _blank_whitespace_lines(_lines(parts))
    while lines and not lines[0]:
        lines.pop(0)
    prefix = _common_indent(lines)
    if prefix:
        lines = [_drop_prefix(line, len(prefix)) for line in lines]
    flat = _join(lines)
    if flat and isinstance(flat[-1], str):
        flat[-1] = flat[-1].rstrip()
    return [ir.Text.trusted(text=p) if isinstance(p, str) else p for p in flat if p != ""]


def _lines(parts: list[Part]) -> list[list]:
    """The command as source lines: lists of str (no newlines) and references."""
    lines: list[list] = [[]]
    for part in parts:
        if not isinstance(part, ir.Text):
            lines[-1].append(part)
            continue
        first, *rest = part.text.split("\n")
        line = lines[-1]
        if line and isinstance(line[-1], str):  # two texts in a row are one
            line[-1] += first
        elif first:
            line.append(first)
        for piece in rest:
            lines.append([piece] if piece else [])
    return lines


def _is_blank(line: list) -> bool:
    return all(isinstance(p, str) and not p.strip(_INDENT) for p in line)


def _blank_whitespace_lines(lines: list[list]) -> list[list]:
    return [[] if _is_blank(line) else line for line in lines]


def _indent_of(line: list) -> str:
    head = line[0] if line else None
    if not isinstance(head, str):
        return ""
    return head[: len(head) - len(head.lstrip(_INDENT))]


def _common_indent(lines: list[list]) -> str:
    """The longest whitespace prefix shared by every non-blank line."""
    indents = [_indent_of(line) for line in lines if line]
    if not indents:
        return ""
    prefix = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def _drop_prefix(line: list, width: int) -> list:
    if not line:
        return line
    head = line[0]
    assert isinstance(head, str)  # a non-blank line with an indent starts with text
    return ([head[width:]] if head[width:] else []) + line[1:]


def _join(lines: list[list]) -> list:
    """Lines back to one list: newlines rejoin text, adjacent texts merge."""
    out: list = []
    for i, line in enumerate(lines):
        if i:
            if out and isinstance(out[-1], str):
                out[-1] += "\n"
            else:
                out.append("\n")
        for part in line:
            if isinstance(part, str) and out and isinstance(out[-1], str):
                out[-1] += part
            elif part != "":
                out.append(part)
    return out
