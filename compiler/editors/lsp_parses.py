"""The language server's parses: the last syntax tree of each file, reused
while its text is unchanged and patched when an edit stays inside a few
top-level declarations.

Reuse of an unchanged text: parsing is a function of the text and the path
alone, and nothing after it changes a syntax tree, so the tree and the
syntax diagnostics are those a new parse would give.

Patching an edited text, when the last parse had no diagnostic: a file is a
sequence of top-level declarations, and between two of them there is only
white space, comments and `;`. The lines the edit touches, widened to whole
declarations (no declaration outside them shares a line with them), are
parsed alone, padded with the newlines before them so that every position
is the one a parse of the whole file gives. Whatever the lexer and parser
do inside those lines, they start and end there as they would in the whole
file: at the start of a line, between declarations, no string or comment
open (a string left open, or any other diagnostic, and the whole file is
parsed instead). The declarations before keep their positions; so do those
after when the edit adds or removes no line, else they are parsed again
too. tests/lsp/test_incremental.py compares patched and whole parses over
random edits."""

from __future__ import annotations

from collections import OrderedDict

from ..diagnostics import Diagnostic, Diagnostics
from ..frontend import ast as A
from ..frontend.syntax import parse_module


class Parses:
    """loader.Parser with memory: the last parse of each file, by path."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit  # files remembered, the least recently parsed forgotten first
        self._last: OrderedDict[str, tuple[str, A.Module | None, tuple[Diagnostic, ...]]] = OrderedDict()

    def parse(self, text: str, path: str, diags: Diagnostics) -> A.Module | None:
        """parse_module's result for `text`, from the last parse of `path`
        where it can be, else from parse_module."""
        last = self._last.get(path)
        if last is not None and last[0] == text:
            module, found = last[1], last[2]
        else:
            module = patched(last[0], last[1], text, path) if last is not None and not last[2] else None
            found: tuple[Diagnostic, ...] = ()
            if module is None:
                own = Diagnostics()
                module = parse_module(text, path, own)
                found = tuple(own.items)
            self._last[path] = (text, module, found)
        self._last.move_to_end(path)
        while len(self._last) > self.limit:
            self._last.popitem(last=False)
        diags.extend(found)
        return module


def patched(old: str, tree: A.Module | None, new: str, path: str) -> A.Module | None:
    """The tree of `new` from `tree`, the diagnostic-free parse of `old`; None
    when the edit cannot be parsed alone (then parse the whole text)."""
    if tree is None:
        return None
    decls = tree.decls
    start, old_end, new_end = _changed(old, new)
    first = old.count("\n", 0, start) + 1  # the lines the edit touches, in the old text
    last = first + old.count("\n", start, old_end)
    added = new.count("\n", start, new_end) - old.count("\n", start, old_end)
    # Widen to whole declarations: the first and last touched, and any other
    # on a line they share (`stage a {} stage b {}`).
    lo = next((i for i, d in enumerate(decls) if d.pos.end_line >= first), len(decls))
    hi = lo
    while hi < len(decls) and decls[hi].pos.line <= last:
        hi += 1
    if lo < hi:
        first, last = min(first, decls[lo].pos.line), max(last, decls[hi - 1].pos.end_line)
    while lo > 0 and decls[lo - 1].pos.end_line >= first:
        lo -= 1
        first = min(first, decls[lo].pos.line)
    while hi < len(decls) and decls[hi].pos.line <= last:
        last = max(last, decls[hi].pos.end_line)
        hi += 1
    if added:
        hi, last = len(decls), old.count("\n") + 1  # the rest moved: parse it again
    begin = _line_start(old, first)  # before the edit: the same offset in both texts
    end = _line_end(old, last) + len(new) - len(old)  # after the edit: shifted by the length change
    own = Diagnostics()
    part = parse_module("\n" * (first - 1) + new[begin:end], path, own)
    if part is None or own.items:
        return None
    return A.Module(tree.path, [*decls[:lo], *part.decls, *decls[hi:]])


def _changed(old: str, new: str) -> tuple[int, int, int]:
    """(start, end in old, end in new) of the part that differs: the texts
    agree before start and after the ends."""
    short = min(len(old), len(new))
    lo, hi = 0, short  # the common prefix: binary search on slices (compared at C speed)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[:mid] == new[:mid]:
            lo = mid
        else:
            hi = mid - 1
    prefix = lo
    lo, hi = 0, short - prefix  # the common suffix, not overlapping the prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[len(old) - mid:] == new[len(new) - mid:]:
            lo = mid
        else:
            hi = mid - 1
    return prefix, len(old) - lo, len(new) - lo


def _line_start(text: str, line: int) -> int:
    """The offset of 1-based `line`'s first character."""
    at = 0
    for _ in range(line - 1):
        at = text.index("\n", at) + 1
    return at


def _line_end(text: str, line: int) -> int:
    """The offset of the newline ending 1-based `line` (the text's length for the last)."""
    end = text.find("\n", _line_start(text, line))
    return len(text) if end < 0 else end
