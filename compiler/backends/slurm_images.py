"""Container images on a Slurm site: each remote image (docker://, oras://,
...) is pulled once per site, on the login host, into a cache beside the
experiments' work roots (`<work root>/../.mlc-cache/images/<name>.sif`), by a
workflow step that runs before the site's first job; array tasks then run
the .sif from the shared file system. Compute nodes need no registry access,
and no task converts the image again."""

from __future__ import annotations

import hashlib
import re

from ..ir import Experiment, Span
from .errors import BackendError
from .naming import file_stem
from .templating import render

_REMOTE = ("docker://", "oras://", "library://", "shub://")
# What a registry reference holds; nothing a shell or a file name would read specially.
_REFERENCE = re.compile(r"[A-Za-z0-9_.:/@+-]+")


def script_path(site: str) -> str:
    return f"slurm/{file_stem(site)}/images.sh"


def sif_name(reference: str, span: Span) -> str | None:
    """The cache's file name for a remote image, None for a local one (a
    .sif path is used where it is)."""
    if not reference.startswith(_REMOTE):
        return None
    if not _REFERENCE.fullmatch(reference):
        raise BackendError(f"image {reference!r} cannot be pulled: use letters, digits and `_.:/@+-` only", span)
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", reference.split("://", 1)[1])[:80]
    return f"{readable}-{hashlib.sha256(reference.encode()).hexdigest()[:12]}.sif"


def pulls(images: list[tuple[str, Span]]) -> list[tuple[str, str]]:
    """(sif name, reference) of each remote image, sorted, once each."""
    named = {(sif_name(ref, span), ref) for ref, span in images}
    return sorted((sif, ref) for sif, ref in named if sif is not None)


def images_script(experiment: Experiment, site: str, container: str,
                  images: list[tuple[str, Span]]) -> dict[str, str]:
    """slurm/<site>/images.sh, when the site runs a remote image."""
    wanted = pulls(images)
    if not wanted:
        return {}
    return {script_path(site): render("slurm_images.sh.j2", span=experiment.span, site=site,
                                      container=container, images=wanted)}
