"""Paths the user writes, checked and normalised once, where they are lowered.

A path in a work tree is relative and lexically normalised (`./a//b/`,
`a/./b` and `a/x/../b` are all `a/b`), so one file has one spelling and the
"written twice" check sees it. A local site's work tree lives in the
generated folder, beside what mlc generates, so it must not be one of the
generated files or folders."""

from __future__ import annotations

import posixpath
import re

_URI = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# What the writer and the runner own at the top of the generated folder
# (docs/codegen.md, "The output folder").
GENERATED = ("local", "slurm", "k8s", "ssh", "transfers", "ship", "publish", ".mlc", ".snakemake", "Snakefile", "config.yaml",
             "README.md", "plan.json", "gantt.svg", "graph.svg", "graph.mmd")


def uri_scheme(text: str) -> str | None:
    """The scheme of a URI (`s3` of `s3://bucket/x`), or None for a path."""
    m = _URI.match(text)
    return m.group(1) if m else None


def is_uri(text: str) -> bool:
    return uri_scheme(text) is not None


def work_path(text: str) -> str | None:
    """The normalised relative path, or None when `text` is not a path inside
    the work tree (empty, a URI, absolute, leaving it with `..`, the tree
    itself, or holding a control character)."""
    if not text.strip() or is_uri(text) or text.startswith("/"):
        return None
    if not text.isprintable():
        return None
    parts = text.split("/")
    if "" in parts or "." in parts or ".." in parts:
        normal = posixpath.normpath(text)
    else:
        normal = text  # already normal: the common case, without normpath's work
    if normal in (".", "..") or normal.startswith("../"):
        return None
    return normal


NAME_MAX = 255  # bytes in one file or folder name on every file system a site may use


def overlong_name(path: str) -> str | None:
    """The first file or folder name of `path` longer than NAME_MAX bytes
    (no file system can create it), or None."""
    if len(path) * 4 <= NAME_MAX:  # no character takes more than 4 bytes
        return None
    return next((part for part in path.split("/") if len(part.encode("utf-8")) > NAME_MAX), None)


def generated_overlap(workdir: str, site: str) -> str | None:
    """The generated file or folder a local site's work tree (`<workdir>/<site>`,
    relative to the generated folder) would share, or None."""
    if posixpath.isabs(workdir) or workdir.startswith("~"):
        return None
    tree = posixpath.normpath(posixpath.join(workdir, site))
    top = tree.split("/")[0]
    return top if top in GENERATED else None
