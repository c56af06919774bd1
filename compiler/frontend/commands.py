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
    lines = _blank_whitespace_lines(_lines(parts))
    while lines and not lines[0]:
        lines.pop(0)
    prefix = _common_indent(lines)
    if prefix:
        lines = [_drop_prefix(line, len(prefix)) for line in lines]
    flat = _join(lines)
    if flat and isinstance(flat[-1], ir.Text):
        tail = flat[-1].text.rstrip()
        flat = flat[:-1] + ([ir.Text(text=tail)] if tail else [])
    return flat


def _lines(parts: list[Part]) -> list[list[Part]]:
    """The command as source lines, each a list of parts without newlines."""
    lines: list[list[Part]] = [[]]
    for part in parts:
        if not isinstance(part, ir.Text):
            lines[-1].append(part)
            continue
        first, *rest = part.text.split("\n")
        line = lines[-1]
        if line and isinstance(line[-1], ir.Text):  # two texts in a row are one
            line[-1] = ir.Text(text=line[-1].text + first)
        elif first:
            line.append(ir.Text(text=first))
        for piece in rest:
            lines.append([ir.Text(text=piece)] if piece else [])
    return lines


def _is_blank(line: list[Part]) -> bool:
    return all(isinstance(p, ir.Text) and not p.text.strip(_INDENT) for p in line)


def _blank_whitespace_lines(lines: list[list[Part]]) -> list[list[Part]]:
    return [[] if _is_blank(line) else line for line in lines]


def _indent_of(line: list[Part]) -> str:
    head = line[0] if line else None
    if not isinstance(head, ir.Text):
        return ""
    return head.text[: len(head.text) - len(head.text.lstrip(_INDENT))]


def _common_indent(lines: list[list[Part]]) -> str:
    """The longest whitespace prefix shared by every non-blank line."""
    indents = [_indent_of(line) for line in lines if line]
    if not indents:
        return ""
    prefix = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def _drop_prefix(line: list[Part], width: int) -> list[Part]:
    if not line:
        return line
    head = line[0]
    assert isinstance(head, ir.Text)  # a non-blank line with an indent starts with text
    rest = head.text[width:]
    return ([ir.Text(text=rest)] if rest else []) + line[1:]


def _join(lines: list[list[Part]]) -> list[Part]:
    """Lines back to parts: newlines rejoin text, adjacent texts merge."""
    out: list[Part] = []

    def add_text(text: str) -> None:
        if out and isinstance(out[-1], ir.Text):
            out[-1] = ir.Text(text=out[-1].text + text)
        elif text:
            out.append(ir.Text(text=text))

    for i, line in enumerate(lines):
        if i:
            add_text("\n")
        for part in line:
            if isinstance(part, ir.Text):
                add_text(part.text)
            else:
                out.append(part)
    return out
