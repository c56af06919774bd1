"""The one route by which values reach the Snakefile (and config.yaml): each
is written as a Python literal, and none is a string Snakemake formats.

Snakemake formats some strings of a rule: `{x}` in an input, output or log
file name is a wildcard (there is no escape: `{{x}}` is a wildcard too), a
plain string in `params:` is formatted with the wildcards, and `shell:` is
formatted with the rule's namespaces. So:

- a parameter is a function, `lambda wildcards: <literal>`: Snakemake takes
  what a function returns as it is;
- file names (scripts, flags, logs) are built by mlc from folded names; one
  holding a brace cannot be written and is refused;
- the shell line is mlc's constant text, which reaches values only through
  `{params.x:q}` and `{input.x:q}`;
- no value may hold NUL: no command line or environment can carry one.
"""

from __future__ import annotations

import json
import re

from ..ir import Span
from .errors import BackendError

# json.dumps(text, ensure_ascii=False), without a new encoder per call (a
# Snakefile of a thousand stages writes thirty thousand literals).
_JSON_STRING = json.JSONEncoder(ensure_ascii=False).encode

TARGET_RULE = "all"  # the Snakefile's default target: no generated rule may take its name
_RULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def refuse_nul(value: str, what: str, span: Span | None) -> str:
    if "\0" in value:
        raise BackendError(f"{what} holds a NUL character, which no command line can carry", span)
    return value


def literal(value: str, what: str, span: Span | None) -> str:
    """`value` as a double-quoted Python string literal. JSON's escapes mean
    the same in Python, but JSON writes a character beyond U+FFFF as a
    surrogate pair, which Python reads as two characters: so JSON is asked
    for the characters themselves, and every unprintable one (U+2028, NEL,
    unassigned code points) is written as a Python escape instead."""
    text = _JSON_STRING(refuse_nul(value, what, span))
    if text.isprintable():  # the common case, checked at C speed
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(c: str) -> str:
    return f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"


def file_literal(path: str, span: Span | None) -> str:
    """A file name in input, output or log."""
    if "{" in path or "}" in path:
        raise BackendError(
            f"{path!r} cannot be a file name in the Snakefile: Snakemake reads braces in it as wildcards", span
        )
    return literal(path, f"the file name {path!r}", span)


def param_function(expression: str) -> str:
    """A parameter whose value Snakemake uses unformatted (`expression` is
    Python made of literals from this module)."""
    return f"lambda wildcards: {expression}"


def setting(site: str, key: str, join: str, span: Span | None) -> str:
    """config["sites"][site][key]; with `join`, `<setting>/<join>` as
    sites.slurm_root joins them (trailing slashes of the setting dropped)."""
    lookup = f'config["sites"][{literal(site, "a site name", span)}][{literal(key, "a setting", span)}]'
    if not join:
        return param_function(lookup)
    # Not os.path.join (an absolute `join` would drop the setting), not a "/"
    # literal nor `+` (`snakemake --lint` flags both as path handling).
    return param_function(f'os.sep.join([{lookup}.rstrip(os.sep), {literal(join, "a path", span)}])')


def constant(value: str, span: Span | None) -> str:
    return param_function(literal(value, "a parameter", span))


def rule_name(name: str) -> str:
    """A generated rule name: an identifier other than the target rule's
    (Python keywords are fine: Snakemake only uses the name as a string)."""
    if not _RULE_NAME.fullmatch(name) or name == TARGET_RULE:
        raise ValueError(f"not a rule name mlc generates: {name!r}")
    return name

