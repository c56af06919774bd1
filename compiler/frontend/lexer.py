"""The tokenizer lark's LALR parser reads from: one compiled regular
expression scanned with `re`'s C loop, instead of lark's per-token Python
matching, which was 60% of the parse time on large files.

It is built from the grammar's own terminal definitions, so grammar/mlx.lark
stays the single source of truth. Like lark's contextual lexer, a word that
spells a keyword is that keyword only where the parser can take the keyword,
and a NAME everywhere else (`stage site { ... }` declares a stage `site`)."""

from __future__ import annotations

import re

from lark import Token
from lark.exceptions import UnexpectedCharacters
from lark.lexer import Lexer, PatternStr

# Scanned in this order: at a position the first alternative that matches
# wins, so the longer or higher-priority forms come first. White space and
# comments are skipped by the same match as the token after them.
_ORDER = ("LONG_STRING", "STRING", "QUANTITY", "NUMBER", "NAME", "LINK_OP")
_SKIP = r"(?:[ \t\f\r\n]+|//[^\n]*)*"


class MlxLexer(Lexer):
    __future_interface__ = 1

    def __init__(self, lexer_conf) -> None:
        by_name = {t.name: t for t in lexer_conf.terminals}
        self.keywords: dict[str, str] = {}  # "stage" -> "STAGE"
        punctuation: dict[str, str] = {}  # "{" -> "LBRACE"
        for t in lexer_conf.terminals:
            if isinstance(t.pattern, PatternStr):
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", t.pattern.value):
                    self.keywords[t.pattern.value] = t.name
                else:
                    punctuation[t.pattern.value] = t.name
        parts = [f"(?P<{name}>{by_name[name].pattern.to_regexp()})" for name in _ORDER if name in by_name]
        for value in sorted(punctuation, key=len, reverse=True):
            parts.append(f"(?P<{punctuation[value]}>{re.escape(value)})")
        parts.append(r"(?P<_END>\Z)")
        self.pattern = re.compile(_SKIP + "(?:" + "|".join(parts) + ")")
        self.allowed = set(by_name) - set(lexer_conf.ignore)

    def lex(self, lexer_state, parser_state):
        text = lexer_state.text.text
        states = parser_state.parse_conf.states
        keywords = self.keywords
        match = self.pattern.match
        count = text.count
        pos, line, line_start = 0, 1, 0
        while True:
            m = match(text, pos)
            if m is None:  # no token starts after the skipped space
                start = _skip_end(text, pos)
                line += count("\n", pos, start)
                line_start = text.rfind("\n", 0, start) + 1
                raise UnexpectedCharacters(text, start, line, start - line_start + 1, allowed=self.allowed,
                                           state=parser_state)
            kind = m.lastgroup
            start = m.start(kind)
            if start > pos:
                newlines = count("\n", pos, start)
                if newlines:
                    line += newlines
                    line_start = text.rfind("\n", pos, start) + 1
            if kind == "_END":
                return
            value = m.group(kind)
            start_line, start_column = line, start - line_start + 1
            new_pos = m.end()
            if kind == "LONG_STRING":
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = start + value.rindex("\n") + 1
            elif kind == "NAME":
                keyword = keywords.get(value)
                if keyword is not None and keyword in states[parser_state.position]:
                    kind = keyword
            pos = new_pos
            yield Token(kind, value, start, start_line, start_column, line, new_pos - line_start + 1, new_pos)


_SKIP_RE = re.compile(_SKIP)


def _skip_end(text: str, pos: int) -> int:
    return _SKIP_RE.match(text, pos).end()
