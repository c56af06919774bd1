"""One benchmark workload: a WfCommons instance of a recipe at a size, and
the same workflow as .mlx (through `mlc import wfformat`, plus the site
catalog of sites.py), as WDL and as a Snakefile, each in its own folder."""

from __future__ import annotations

import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import wfformat_gen  # bench/wfformat_gen.py: seeded WfCommons generation into bench/.cache

from compiler.interop import SITES_FILE, import_wfformat

from . import sites, to_snakefile, to_wdl
from .dag import load

SEED = 42


@dataclass(frozen=True)
class Workload:
    recipe: str
    size: int  # the number of tasks asked of WfCommons
    tasks: int  # the number it generated (recipes round to their own shapes)
    references: int  # file inputs plus outputs over all tasks: the size of the source
    experiment: str  # its name in the .mlx: `mlc compile` writes out/<experiment>/
    mlx: Path
    wdl: Path | None  # None: not written (no peer runs on it)
    snakefile: Path | None
    cluster: str = sites.DEFAULT  # the catalogue's cluster kind (sites.CLUSTERS)

    @property
    def name(self) -> str:
        suffix = "" if self.cluster == sites.DEFAULT else f"-{self.cluster}"
        return f"{self.recipe}-{self.size}{suffix}"

    @property
    def label(self) -> str:
        """The workflow as the report names it: the recipe, and the cluster
        when it is not the default one."""
        return self.recipe if self.cluster == sites.DEFAULT else f"{self.recipe} on {self.cluster}"


def instance(recipe: str, size: int, cache: Path) -> Path:
    """The cached WfFormat instance, generated on first use."""
    path = cache / f"{recipe}-{size}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / ".gitignore").write_text("*\n")
        wfformat_gen.generate(recipe, size, SEED, path)
    return path


def separate() -> ProcessPoolExecutor:
    """One spawned process to `prepare` workloads in. Importing a 20,000-task
    workflow leaves the importing process holding about a GB of freed small
    objects, and a command it then starts and measures pays for it: `mlc
    check` of SoyKB at 20,000 tasks used 1.9 s more CPU than from a fresh
    process (the same measure.run before and after a prepare() in one
    process). A user's shell is the fresh process."""
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def _write(path: Path, text: str) -> None:
    """Writes `text` unless the file holds it already: a phase after the
    first finds its workloads in place and writes nothing."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except FileNotFoundError:
        pass
    path.write_text(text, encoding="utf-8")


def prepare(recipe: str, size: int, root: Path, cache: Path = wfformat_gen.CACHE,
            cluster: str = sites.DEFAULT, peers: bool = True) -> Workload:
    """The workload's folder; the WDL and the Snakefile only when `peers`
    will run on them (at 20,000 tasks they take longer to write than mlc
    takes to check)."""
    source = instance(recipe, size, cache)
    dag = load(source)
    folder = root / (f"{recipe}-{size}" + ("" if cluster == sites.DEFAULT else f"-{cluster}"))
    imported = import_wfformat(source, sites=True)
    if not imported.ok:
        raise RuntimeError(f"mlc import wfformat {source} failed: {imported.diagnostics}")
    mlx = folder / "mlc" / f"{source.stem}.mlx"
    mlx.parent.mkdir(parents=True, exist_ok=True)
    _write(mlx, imported.text)
    # Our catalog, not the importer's: a synthetic instance names no machines,
    # and compile needs more than one site to choose from.
    _write(mlx.parent / SITES_FILE, sites.catalog(dag, cluster))
    # The workflow's own input files, as the Snakefile's folder gets them: mlc
    # checks that project files exist (E0580) so that it can ship them.
    # Made once (183,000 of them for SoyKB at 20,000 tasks).
    for file_id in dag.sources:
        path = mlx.parent / file_id
        if not path.exists():
            path.touch()
    experiment = re.search(r"^experiment (\w+)", imported.text, re.MULTILINE).group(1)
    references = sum(len(t.inputs) + len(t.outputs) for t in dag.tasks)
    wdl = to_wdl.write(dag, folder / "wdl") if peers else None
    snakefile = to_snakefile.write(dag, folder / "snakemake") if peers else None
    return Workload(recipe, size, len(dag.tasks), references, experiment, mlx, wdl, snakefile, cluster)
