"""Reading files and following imports.

Import paths are relative to the importing file. Each file is read and
parsed once; a cycle of imports is an error (catalogs import nothing back)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from stat import S_ISREG
from typing import Callable, Optional

from ..diagnostics import Diagnostics, SourceCache, help_, note
from ..ir import Span
from . import ast as A
from .limits import MAX_IMPORT_DEPTH
from .syntax import parse_module


# The unsaved text of a path (an editor's buffer), or None to read the disk.
Reader = Callable[[str], Optional[str]]
# parse_module or a stand-in with its result (the language server reuses the
# syntax tree of a text it has parsed before).
Parser = Callable[[str, str, Diagnostics], Optional[A.Module]]


class InputUnreadable(Exception):
    """The main file itself cannot be read: a usage or I/O problem (exit 2)."""


@dataclass
class Program:
    main: A.Module | None
    modules: list[A.Module] = field(default_factory=list)  # main first, then imports
    syntax_ok: bool = True


def display_path(path: str) -> str:
    return os.path.normpath(path)


def read_text(path: str, diags: Diagnostics, sources: SourceCache, at: Span | None,
              read: Reader | None = None) -> str | None:
    unsaved = read(path) if read is not None else None
    if unsaved is not None:
        text = _normalise_line_ends(unsaved.removeprefix("\ufeff"))
        sources.add(path, text)
        return text
    try:
        with open(path, "rb") as f:
            stat = os.fstat(f.fileno())
            data = f.read()
    except OSError as err:
        if at is None:
            raise InputUnreadable(f"{path}: {err.strerror or err}") from None
        diags.error("E0107", f"cannot read imported file `{path}`: {err.strerror or err}", at,
                    help_("import paths are relative to the file that imports them"))
        return None
    try:
        text = _decoded(data)
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        sources.add(path, data.decode("utf-8", errors="replace"))
        diags.error("E0104", "the file is not UTF-8 text",
                    A.Pos(path, line, column, line, column + 1).span(),
                    help_(f"byte 0x{data[err.start]:02x} at offset {err.start} is not valid UTF-8"))
        return None
    # A regular file can be read again for a diagnostic's line (SourceCache.release).
    again = (stat.st_size, stat.st_mtime_ns) if S_ISREG(stat.st_mode) else None
    sources.add(path, text, again, _decoded)
    return text


def _decoded(data: bytes) -> str:
    """A file's text as parsed: UTF-8 without a byte-order mark, lines ended by LF."""
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return _normalise_line_ends(text)


def _normalise_line_ends(text: str) -> str:
    """CRLF and lone CR become LF: the lexer, comments and positions count
    lines by LF, so a CR-only file would otherwise be one line whose first
    `//` comment hides everything after it. A CR before LF adds no column,
    so positions stay those an editor shows."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_program(main_path: str, diags: Diagnostics, sources: SourceCache,
                 read: Reader | None = None, parse: Parser | None = None) -> Program:
    main_display = display_path(main_path)
    loader = _Loader(diags, sources, read, parse)
    loader.visit(main_display, None)
    program = loader.program
    program.main = program.modules[0] if program.modules and program.modules[0].path == main_display else None
    return program


class _Loader:
    """One walk over the imports. A class rather than a recursive closure:
    a closure that calls itself is a reference cycle, which kept the whole
    syntax tree alive after the front end (the command line runs without
    the cyclic garbage collector)."""

    def __init__(self, diags: Diagnostics, sources: SourceCache, read: Reader | None,
                 parse: Parser | None) -> None:
        self.diags, self.sources, self.read = diags, sources, read
        self.parse = parse or parse_module
        self.program = Program(main=None)
        self.parsed: dict[str, A.Module | None] = {}
        self.on_stack: list[str] = []  # real paths of the files being visited
        self.shown: dict[str, str] = {}  # real path -> the path as diagnostics show it

    def visit(self, path: str, at: A.Pos | None) -> None:
        diags, program, on_stack, parsed, shown = self.diags, self.program, self.on_stack, self.parsed, self.shown
        key = os.path.realpath(path)
        shown.setdefault(key, path)
        if key in on_stack:
            chain = " -> ".join(shown[p] for p in on_stack[on_stack.index(key):] + [key])
            diags.error("E0108", "import cycle", at.span() if at else None,
                        note(f"the cycle: {chain}"),
                        help_("move the shared declarations into a file that imports nothing"))
            return
        if key in parsed:
            return
        if len(on_stack) >= MAX_IMPORT_DEPTH:
            diags.error("E0109", f"imports nested more than {MAX_IMPORT_DEPTH} deep",
                        at.span() if at else None,
                        help_("import the shared files from one place instead of in a chain"))
            program.syntax_ok = False
            return
        text = read_text(path, diags, self.sources, at.span() if at else None, self.read)
        if text is None:
            parsed[key] = None
            program.syntax_ok = False
            return
        module = self.parse(text, path, diags)
        parsed[key] = module
        if module is None:
            program.syntax_ok = False
            return
        program.modules.append(module)
        on_stack.append(key)
        for decl in module.decls:
            if isinstance(decl, A.Import):
                target = decl.path.literal()
                if target is None or not target:
                    diags.error("E0107", "an import path must be a plain, non-empty string",
                                decl.path.pos.span())
                    continue
                if "\x00" in target:
                    continue  # E0110 at the string already; no file name holds a NUL
                self.visit(display_path(os.path.join(os.path.dirname(path), target)), decl.path.pos)
        on_stack.pop()
