"""The user's project: the folder of the main .mlx file. Project paths (the
experiment's `code` list, `file()`/`dir()` inputs) are relative to it, the
way an MLDev experiment's paths are relative to its experiment.yml, and
they keep that relative path in every site's work tree (docs/running.md,
"How code reaches a site")."""

from __future__ import annotations

import os


def project_root(main: str) -> str:
    """The absolute folder that project paths of the experiment in `main` are relative to."""
    return os.path.dirname(os.path.abspath(main))


def files_under(root: str, path: str) -> list[str]:
    """The files of project path `path` (itself when a file; every file
    below it, sorted, when a folder), relative to `root`, `/`-separated."""
    full = os.path.join(root, path)
    if not os.path.isdir(full):
        return [path]
    found = []
    for folder, dirs, files in os.walk(full):
        dirs.sort()
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        found += [f"{rel}/{name}" for name in sorted(files)]
    return sorted(found)
