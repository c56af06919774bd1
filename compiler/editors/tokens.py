"""The concrete syntax of an .mlx file, for the formatter: lark's parse tree
with every token kept and positions on, plus the comments the grammar ignores.

The front end's parser builds the AST while it parses and drops punctuation
and comments; a formatter needs both, so it parses again with its own
non-transforming lark instance over the same grammar."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lark import Lark, Token, Tree

from ..frontend.parser_cache import cached_lark
from ..resources import grammar_path


@dataclass(frozen=True)
class Comment:
    text: str  # from `//` to the end of its line, trailing blanks removed
    start: int  # offset of `//` in the text
    line: int  # 1-based


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The tables come from the user's cache when they can (frontend/parser_cache.py).
    options = dict(parser="lalr", propagate_positions=True, keep_all_tokens=True, maybe_placeholders=False)
    return cached_lark(grammar_path().read_text(encoding="utf-8"), options, lambda: None)


def parse_tree(text: str) -> Tree:
    """The parse tree of a whole file; raises lark's UnexpectedInput."""
    return _parser().parse(text)


_COMMENT = re.compile(r"//[^\n]*")


def comments(text: str, tree: Tree) -> list[Comment]:
    """Every comment, in order. Between two tokens there is only whitespace
    and comments (everything else is a token), so each `//` found in a gap
    starts a comment; a `//` inside a string is inside a token."""
    tokens = sorted(tree.scan_values(lambda v: isinstance(v, Token)), key=lambda t: t.start_pos)
    gaps = []
    previous_end = 0
    for tok in tokens:
        gaps.append((previous_end, tok.start_pos))
        previous_end = tok.end_pos
    gaps.append((previous_end, len(text)))
    found = []
    line, counted_to = 1, 0
    for begin, end in gaps:
        for m in _COMMENT.finditer(text, begin, end):
            line += text.count("\n", counted_to, m.start())
            counted_to = m.start()
            found.append(Comment(m.group().rstrip(), m.start(), line))
    return found
