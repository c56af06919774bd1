"""Paths the user writes, checked and normalised once, where they are lowered.

A path in a work tree is relative and lexically normalised (`./a//b/`,
`a/./b` and `a/x/../b` are all `a/b`), so one file has one spelling and the
"written twice" check sees it. A local site's work tree lives in the
generated folder, beside what mlc generates, so it must not be one of the
generated files or folders."""

from __future__ import annotations

import posixpath
import re

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# What the writer and the runner own at the top of the generated folder
# (docs/codegen.md, "The output folder").
GENERATED = ("local", "slurm", "k8s", "transfers", ".mlc", ".snakemake", "Snakefile", "config.yaml",
             "README.md", "plan.json", "gantt.svg", "graph.svg", "graph.mmd")


def work_path(text: str) -> tuple[str | None, str | None]:
    """(the normalised relative path, None) or (None, why it is not one)."""
    if not text or not text.strip():
        return None, "an empty path"
    if _URI.match(text):
        return None, "a URI, not a path in the work tree"
    if text.startswith("/"):
        return None, "an absolute path"
    if any(not c.isprintable() for c in text):
        return None, "a path with a control character"
    normal = posixpath.normpath(text)
    if normal == "..":
        return None, "a path that leaves the work tree (`..`)"
    if normal.startswith("../"):
        return None, "a path that leaves the work tree (`..`)"
    if normal == ".":
        return None, "the work tree itself, not a path in it"
    return normal, None


def generated_overlap(workdir: str, site: str) -> str | None:
    """The generated file or folder a local site's work tree (`<workdir>/<site>`,
    relative to the generated folder) would share, or None."""
    if posixpath.isabs(workdir) or workdir.startswith("~"):
        return None
    tree = posixpath.normpath(posixpath.join(workdir, site))
    top = tree.split("/")[0]
    return top if top in GENERATED else None
