"""Project paths: the experiment's `code = [...]` list and every
`file()`/`dir()` input. Each is checked against the disk at compile time
(E0580-E0583), because a missing script found only on a cluster, hours into
a run, is the most expensive way to learn of a typo. Paths are relative to
the project (compiler/project.py) and must stay inside it."""

from __future__ import annotations

import os
import posixpath
import stat

from .. import ir
from ..diagnostics import Diagnostics, help_
from ..project import project_root
from . import ast as A
from .context import Context
from .evaluate import BAD
from .paths import is_uri, work_path


def lower_code(ctx: Context, main: str) -> list[ir.ProjectPath]:
    """The experiment's `code` list, each entry checked."""
    exp = ctx.decls.experiment
    field = next((f for f in exp.fields if f.name == "code"), None) if exp is not None else None
    if field is None or not isinstance(field.value, A.ListV):
        return []  # absent, or not a list (the field check reported that)
    root = _Project(project_root(main))
    code: list[ir.ProjectPath] = []
    for item in field.value.items:
        if not isinstance(item, A.Str):
            continue  # reported by the field check
        text = item.literal()
        if text is None:
            text = ctx.ev.string(item, ctx.params)
            if text is BAD:
                continue
        span = item.pos.span()
        if is_uri(text) or work_path(text) is None:
            ctx.diags.error("E0581", f"`{text}` is not a path inside the project", span,
                            help_(f"code paths are relative to the experiment's folder {_shown(root.root)} and stay "
                                  "inside it (no absolute path, no `..`); move what the stages need into it"))
            continue
        path = work_path(text)
        kind = _check(ctx.diags, root, path, None, span)
        if kind is not None:
            code.append(ir.ProjectPath(path=path, kind=kind, span=span))
    return code


def check_inputs(diags: Diagnostics, experiment: ir.Experiment) -> None:
    """Every `file()`/`dir()` input exists in the project as what it says
    it is, and no output is written over a project path."""
    root = _Project(project_root(experiment.source))
    seen: set[tuple[str, ir.Span]] = set()
    for unit in [*experiment.instances, *experiment.services]:
        for port in unit.inputs:
            source = port.source
            if source is None or (source.path, source.span) in seen:
                continue  # sweep members share their input's span: one report
            seen.add((source.path, source.span))
            _check(diags, root, source.path, source.kind, source.span)


class _Project:
    """The project folder, resolved once. Resolving every input's path
    (os.path.realpath: an lstat per component, from `/` down) cost most of
    the lowering of workflows with tens of thousands of input files; a path
    none of whose components inside the project is a symbolic link stays in
    it, and the folders known to be no link are remembered."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self._plain: set[str] = set()  # relative paths that are no symbolic link

    def escapes(self, path: str, last_is_link: bool) -> bool:
        """Whether the project path `path` (normalised, relative) resolves
        outside the project through a symbolic link on its way; the caller
        knows whether its last component is one (it has lstat'ed it)."""
        folders, _, last = path.rpartition("/")
        prefix = ""
        for part in folders.split("/") if folders else ():
            prefix = f"{prefix}/{part}" if prefix else part
            if prefix in self._plain:
                continue
            if os.path.islink(os.path.join(self.root, prefix)):
                return _escaping_link(self.real_root, os.path.join(self.root, path))
            self._plain.add(prefix)
        return last_is_link and _escaping_link(self.real_root, os.path.join(self.root, path))


def _check(diags: Diagnostics, project: _Project, path: str, kind: str | None, span: ir.Span) -> str | None:
    """The kind of `path` ("file" or "dir"), or None after reporting why it cannot be shipped."""
    root = project.root
    full = os.path.join(root, path)
    # One lstat tells existence, link and kind (a file's own kind unless
    # it is a link): the one system call per input file of a large
    # workflow, where there were four.
    try:
        mode = os.lstat(full).st_mode
    except (OSError, ValueError):
        diags.error("E0580", f"`{path}` does not exist in the project", span,
                    help_(f"project paths are relative to the experiment's folder {_shown(root)}; "
                          "create the file or correct the path"))
        return None
    is_link = stat.S_ISLNK(mode)
    is_dir = os.path.isdir(full) if is_link else stat.S_ISDIR(mode)
    real_root = project.real_root
    outside = full if project.escapes(path, is_link) else None
    if outside is None and is_dir:
        outside = next((os.path.join(folder, name) for folder, dirs, files in sorted(os.walk(full))
                        for name in sorted(dirs + files)
                        if _escaping_link(real_root, os.path.join(folder, name))), None)
    if outside is not None:
        shown = os.path.relpath(outside, root).replace(os.sep, "/")
        diags.error("E0582", f"`{shown}` is a symbolic link that leads out of the project", span,
                    help_("a site gets a copy of the project's own files only: copy the target into the "
                          "project, or declare it as a `dataset` where it lives"))
        return None
    actual = "dir" if is_dir else "file"
    if kind is not None and kind != actual:
        diags.error("E0583", f"`{path}` is a {'folder' if actual == 'dir' else 'file'}, not a "
                    f"{'folder' if kind == 'dir' else 'file'}", span,
                    help_(f"write `{actual}(\"{path}\")`"))
        return None
    return actual


def _escaping_link(real_root: str, full: str) -> bool:
    """Whether `full` resolves (through any symbolic link on its way) outside `real_root`."""
    real = os.path.realpath(full)
    return os.path.commonpath([real_root, real]) != real_root


def _shown(root: str) -> str:
    return f"`{posixpath.basename(root.replace(os.sep, '/')) or root}`"
