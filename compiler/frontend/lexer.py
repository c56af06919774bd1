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

from .limits import MAX_NAME_LENGTH, MAX_NESTING

# Scanned in this order: at a position the first alternative that matches
# wins, so the longer or higher-priority forms come first. White space and
# comments are skipped by the same match as the token after them. The skip
# is possessive: a backtracking `(?:[ ]+|...)*` tried every split of a long
# run of spaces before a character no token starts with (exponential time).
_ORDER = ("LONG_STRING", "STRING", "QUANTITY", "NUMBER", "NAME", "LINK_OP")
_SKIP = r"(?:[ \t\f\r\n]++|//[^\n]*+)*+"
_OPENING = frozenset({"LBRACE", "LSQB", "LPAR"})
_CLOSING = frozenset({"RBRACE", "RSQB", "RPAR"})


class LimitExceeded(UnexpectedCharacters):
    """A token the lexer refuses because of a limit (limits.py): reported as a
    syntax error with its own code; the parser resynchronises after it."""

    def __init__(self, text: str, start: int, line: int, column: int, width: int,
                 code: str, message: str, hint: str) -> None:
        super().__init__(text, start, line, column)
        self.width, self.code, self.message, self.hint = width, code, message, hint


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
        depth = 0  # open brackets: the passes after the parser recurse on nesting
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
                if len(value) > MAX_NAME_LENGTH:
                    raise LimitExceeded(
                        text, start, start_line, start_column, len(value), "E0109",
                        f"a name of {len(value)} characters (at most {MAX_NAME_LENGTH})",
                        "names become file names; shorten it")
                keyword = keywords.get(value)
                if keyword is not None and keyword in states[parser_state.position]:
                    kind = keyword
            elif kind in _OPENING:
                depth += 1
                if depth > MAX_NESTING:
                    raise LimitExceeded(
                        text, start, start_line, start_column, 1, "E0109",
                        f"brackets nested more than {MAX_NESTING} deep",
                        "flatten the value; generate deep data as a file and pass its path")
            elif kind in _CLOSING:
                depth = max(0, depth - 1)
            pos = new_pos
            yield Token(kind, value, start, start_line, start_column, line, new_pos - line_start + 1, new_pos)


_SKIP_RE = re.compile(_SKIP)


def _skip_end(text: str, pos: int) -> int:
    return _SKIP_RE.match(text, pos).end()
