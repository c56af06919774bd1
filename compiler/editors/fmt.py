"""`mlc fmt PATHS [--check] [--diff]`: rewrite .mlx files in the canonical
style (printer.py; the rules are in docs/fmt-lsp.md).

Folders are searched for *.mlx recursively, in sorted order. A file with
syntax errors is never touched: its diagnostics are printed instead.
Exit status: 0 nothing to do (or done), 1 some file would change under
--check or has syntax errors, 2 a path cannot be read or written."""

from __future__ import annotations

import difflib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lark.exceptions import UnexpectedInput

from ..diagnostics import Diagnostics, SourceCache, render_text
from ..frontend.loader import InputUnreadable, read_text
from ..frontend.syntax import parse_module
from .printer import format_text

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


class FormatError(Exception):
    """The file cannot be formatted; `report` is the rendered diagnostics."""

    def __init__(self, report: str):
        super().__init__(report)
        self.report = report


@dataclass(frozen=True)
class Formatted:
    path: Path
    before: str  # the file as read: decoded, without a byte-order mark
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
            fromfile=f"a/{self.path}", tofile=f"b/{self.path}"))


def format_source(text: str, path: str) -> str:
    """The canonical form of `text`; raises FormatError on syntax errors,
    rendered by the front end exactly as `mlc check` would."""
    try:
        return format_text(text)
    except UnexpectedInput:
        diags = Diagnostics()
        sources = SourceCache()
        sources.add(path, text)
        parse_module(text, path, diags)
        raise FormatError(render_text(diags.sorted(), sources)) from None


def format_file(path: Path) -> Formatted:
    """Raises InputUnreadable (I/O) or FormatError (not UTF-8, syntax).
    A byte-order mark is not part of the text: a file is rewritten without
    one only when its text changes."""
    diags = Diagnostics()
    sources = SourceCache()
    text = read_text(str(path), diags, sources, None)
    if text is None:  # not UTF-8: E0104
        raise FormatError(render_text(diags.sorted(), sources))
    return Formatted(path, text, format_source(text, str(path)))


def find_files(paths: list[str]) -> list[Path]:
    """The files named, and the *.mlx files under the folders named.
    Raises InputUnreadable for a path that does not exist."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.mlx") if p.is_file()))
        elif path.exists():
            found.append(path)
        else:
            raise InputUnreadable(f"{name}: no such file or directory")
    return list(dict.fromkeys(found))  # a file named twice is formatted once


def write_atomically(path: Path, text: str) -> None:
    """Replace the file in one step, keeping its permissions, so an
    interrupted run never leaves half a file."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        shutil.copymode(path, temp)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def run_fmt(args) -> int:
    try:
        files = find_files(args.paths)
    except InputUnreadable as err:
        print(f"mlc fmt: {err}", file=sys.stderr)
        return EXIT_USAGE
    status = EXIT_OK
    would_change = 0
    for path in files:
        try:
            result = format_file(path)
        except InputUnreadable as err:
            print(f"mlc fmt: {err}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        except FormatError as err:
            print(err.report, file=sys.stderr, end="")
            print(f"mlc fmt: {path}: not formatted: it has errors", file=sys.stderr)
            status = max(status, EXIT_ERRORS)
            continue
        if not result.changed:
            continue
        would_change += 1
        if args.diff:
            sys.stdout.write(result.diff())
        if args.check:
            if not args.diff:
                print(path)
            status = max(status, EXIT_ERRORS)
        elif not args.diff:
            try:
                write_atomically(path, result.after)
            except OSError as err:
                print(f"mlc fmt: cannot write {path}: {err.strerror or err}", file=sys.stderr)
                status = EXIT_USAGE
                continue
            print(f"reformatted {path}", file=sys.stderr)
    if args.check and would_change:
        files_word = "file" if would_change == 1 else "files"
        print(f"mlc fmt: {would_change} {files_word} would be reformatted", file=sys.stderr)
    return status
