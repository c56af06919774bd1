"""Completion candidates at a cursor. The text being typed rarely parses, so
the context comes from the text before the cursor (which block it is in,
what precedes it on the line); the names come from the last analysis that
parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..frontend import ast as A
from ..frontend import schema
from ..frontend.syntax import DECL_KEYWORDS
from ..frontend.units import UNITS
from ..sites import registry
from .lsp_index import Index


@dataclass(frozen=True)
class Candidate:
    label: str
    kind: str  # keyword | field | unit | site | pool | param | stage | ... (a declaration kind)
    detail: str = ""


# Strings and comments are skipped when looking for the enclosing block.
_SKIP = re.compile(r'"""(?:.|\n)*?(?:"""|$)|"(?:[^"\\\n]|\\.)*"?|//[^\n]*|[{}]')
_HEADER = re.compile(
    r"(?:^|[\s;}])(experiment|secret|dataset|site|partition|pool|link|template|stage|service)\b"
    r"([^{]*)$")
_NUMBER_BEFORE = re.compile(r"(?:^|[\s=\[,(:])-?(?:\d+(?:\.\d+)?|\.\d+)([A-Za-z/]*)$")
_PLACEMENT_VALUE = re.compile(r"\b(on|not_on|at)\s*=\s*\[?(?:[\w.]+\s*,\s*)*([\w.]*)$")
_VALUE = re.compile(r"=\s*(?:.*[\[,(:{]\s*)?([\w.]*)$")
_TEMPLATE_CALL = re.compile(r"^\s*(?:stage|service)\s+\w+\s*:\s*(\w*)$")
_DOTTED = re.compile(r"\b(\w+)\.(\w*)$")
# `train[lr = lr, b` (a key of a per-member reference) and `train[lr = lr].c`
_SELECTOR_KEY = re.compile(r"\b(\w+)\[(?:[^\[\]=,]*=[^\[\],]*,)*\s*(\w*)$")
_SELECTED_OUTPUT = re.compile(r"\b(\w+)\[[^\[\]]*\]\.(\w*)$")


def enclosing_block(before: str) -> tuple[str, str] | None:
    """(keyword, rest of its header) of the innermost open block: ("map", "")
    inside a map value, None at the top level."""
    stack: list[tuple[str, str]] = []
    last = 0
    for m in _SKIP.finditer(before):
        if m.group() == "{":
            header_text = before[last:m.start()]
            opener = _HEADER.search(header_text)
            if re.search(r"[=:,\[(]\s*$", header_text) or opener is None:
                stack.append(("map", ""))
            else:
                stack.append((opener.group(1), opener.group(2)))
            last = m.end()
        elif m.group() == "}":
            if stack:
                stack.pop()
            last = m.end()
    return stack[-1] if stack else None


def complete(before: str, index: Index, path: str, line: int) -> list[Candidate]:
    """Candidates for the text `before` the cursor, on 1-based `line` of `path`."""
    current = before.rsplit("\n", 1)[-1]
    number = _NUMBER_BEFORE.search(current)
    if number:
        prefix = number.group(1)
        return [Candidate(u, "unit", UNITS[u][0]) for u in sorted(UNITS) if u.startswith(prefix)]
    call = _TEMPLATE_CALL.search(current)
    if call:
        return _declared(index, {"Template"})
    placement = _PLACEMENT_VALUE.search(current)
    if placement:
        return _sites_and_pools(index, pools=placement.group(1) != "at")
    selected = _SELECTED_OUTPUT.search(current)
    if selected and "=" in current:
        return _members(index, selected.group(1))
    key = _SELECTOR_KEY.search(current)
    if key and isinstance(index.declarations.get(key.group(1)), A.Stage):
        stage = index.declarations[key.group(1)]
        return [Candidate(a.name, "axis", f"sweep variable of {stage.name}") for a in stage.sweep]
    dotted = _DOTTED.search(current)
    if dotted and "=" in current:
        return _members(index, dotted.group(1))
    if _VALUE.search(current):
        return _in_scope(index, path, line)
    block = enclosing_block(before)
    if block is None:
        return [Candidate(k, "keyword") for k in DECL_KEYWORDS]
    if block[0] == "map":  # keys are the user's own
        return []
    return _fields(*block)


def _fields(keyword: str, header: str) -> list[Candidate]:
    extra: list[str] = []
    if keyword in ("stage", "service", "template"):
        kind = keyword
        if keyword == "template":
            kind = "service" if re.search(r":\s*service\s*$", header) else "stage"
        table = schema.STAGE if kind == "stage" else schema.SERVICE
        extra = ["in", "out"]
    elif keyword == "site":
        kind = re.search(r":\s*(\w+)", header)
        site_kind = kind.group(1) if kind else ""
        kind = registry.KINDS.get(site_kind)
        table = kind.site_fields() if kind else {}
        if kind and kind.pool_keyword:
            extra = [kind.pool_keyword]
    else:
        table = {"experiment": schema.EXPERIMENT, "secret": schema.SECRET,
                 "dataset": schema.DATASET, "partition": schema.POOL, "pool": schema.POOL,
                 "link": schema.LINK}[keyword]
    fields = [Candidate(name, "field",
                        schema.type_name(spec.type) + (" (required)" if spec.required else ""))
              for name, spec in sorted(table.items())]
    return fields + [Candidate(k, "keyword") for k in extra]


_KIND_NAMES = {"Param": "param", "Secret": "secret", "Dataset": "dataset", "Site": "site",
               "Template": "template", "Stage": "stage", "Service": "service"}


def _declared(index: Index, kinds: set[str]) -> list[Candidate]:
    return [Candidate(name, _KIND_NAMES[type(d).__name__], _KIND_NAMES[type(d).__name__])
            for name, d in sorted(index.declarations.items()) if type(d).__name__ in kinds]


def _sites_and_pools(index: Index, pools: bool) -> list[Candidate]:
    out = _declared(index, {"Site"})
    if pools:
        for name, d in sorted(index.declarations.items()):
            if isinstance(d, A.Site):
                out += [Candidate(f"{name}.{p.name}", "pool", f"{p.keyword} of {name}") for p in d.pools]
    return out


def _members(index: Index, owner: str) -> list[Candidate]:
    """After `site.`: its pools; after `stage.`: its outputs."""
    d = index.declarations.get(owner)
    if isinstance(d, A.Site):
        return [Candidate(p.name, "pool", f"{p.keyword} of {owner}") for p in d.pools]
    if isinstance(d, (A.Stage, A.Service)):
        return [Candidate(p.name, "port", f"output of {owner}")
                for p in d.body.ports if p.direction == "out"]
    return []


def _in_scope(index: Index, path: str, line: int) -> list[Candidate]:
    """Declared names, the sweep variables or template parameters of the
    declaration around the cursor, and the value keywords."""
    out = _declared(index, set(_KIND_NAMES))
    for d in index.declarations.values():
        if d.pos.file != path or not d.pos.line <= line <= d.pos.end_line:
            continue
        if isinstance(d, A.Stage):
            out += [Candidate(a.name, "axis", "sweep variable") for a in d.sweep]
        elif isinstance(d, A.Template):
            out += [Candidate(p.name, "param", f"template parameter: {p.type}") for p in d.params]
    return out + [Candidate(k, "keyword") for k in ("true", "false", "file", "dir", "range", "zip")]
