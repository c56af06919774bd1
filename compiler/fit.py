"""Which pools can ever run a unit, and why the others cannot.

Shared by the front end's feasibility check (E07xx: "no pool can ever run
stage X") and by placement, so it stays pure: IR types in, plain values out.
A shortfall is a hard reason, independent of time and of other units: a pin,
an exclusion, a resource a node does not have, a wall time over max_time, a
secret the site cannot deliver.
"""

from __future__ import annotations

from . import shapes
from .ir import Experiment, Pool, Service, Site, StageInstance
from .sites import registry
from .sites.base import Feature

Unit = StageInstance | Service

_INF = float("inf")


def human_duration(seconds: float) -> str:
    """`45s`, `20m 5s`, `1h 30m`, `3d 4h`: the two leading units, for messages and tables."""
    if seconds == _INF:
        return "never"
    if seconds < 60:
        return f"{seconds:.3g}s"
    if seconds < 3600:
        big, small = divmod(round(seconds), 60)
        units = ("m", "s")
    elif seconds < 3 * 86400:
        big, small = divmod(round(seconds / 60), 60)
        units = ("h", "m")
    else:
        big, small = divmod(round(seconds / 3600), 24)
        units = ("d", "h")
    return f"{big}{units[0]} {small}{units[1]}" if small else f"{big}{units[0]}"


def human_size(size: float) -> str:
    """Decimal units, the way data sizes are usually quoted: `30 GB`."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size:.0f} B"


def _human_memory(size: float) -> str:
    # Memory is declared in binary units (GiB), so it is shown that way.
    for unit, scale in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size:.0f} B"


def _gpus_text(count: int, gpu_type: str | None) -> str:
    return f"{count} x {gpu_type}" if gpu_type else f"{count} GPU{'s' if count != 1 else ''}"


def per_node_fit(unit: Unit, pool: Pool) -> int:
    """How many copies of the unit one node of the pool holds at once."""
    res = unit.resources
    fits = [pool.cpus // max(res.cpus, 1) if res.cpus else 1 << 30]
    if res.memory:
        fits.append(pool.memory // res.memory)
    if res.gpus and res.gpus.count:
        have = pool.gpus.count if pool.gpus and _gpu_type_ok(res.gpus.type, pool) else 0
        fits.append(have // res.gpus.count)
    return max(0, min(fits))


def _gpu_type_ok(wanted: str | None, pool: Pool) -> bool:
    return pool.gpus is not None and (wanted is None or pool.gpus.type == wanted)


def _resource_shortfalls(unit: Unit, pool: Pool) -> list[str]:
    res = unit.resources
    out = []
    if res.cpus > pool.cpus:
        out.append(f"needs {res.cpus} cpus, a node has {pool.cpus}")
    if res.memory > pool.memory:
        out.append(
            f"needs {_human_memory(res.memory)} memory, a node has {_human_memory(pool.memory)}"
        )
    if res.gpus and res.gpus.count:
        need = _gpus_text(res.gpus.count, res.gpus.type)
        if res.nodes > 1:  # per node: say so, `needs 2 nodes x 4 x a100; hpc.gpu has nodes of 1 x t4`
            need = shapes.describe(res)
        if pool.gpus is None or not pool.gpus.count:
            out.append(f"needs {need}, has no GPUs")
        elif not _gpu_type_ok(res.gpus.type, pool) or pool.gpus.count < res.gpus.count:
            have = _gpus_text(pool.gpus.count, pool.gpus.type)
            out.append(f"needs {need}; {pool.id} has nodes of {have}" if res.nodes > 1
                       else f"needs {need}, has {have}")
    return out


def _placement_shortfalls(unit: Unit, pool: Pool) -> list[str]:
    out = []
    if unit.on and pool.site not in unit.on and pool.id not in unit.on:
        out.append(f"pinned to {', '.join(sorted(unit.on))}")
    excluded = sorted({pool.site, pool.id} & set(unit.not_on))
    if excluded:
        out.append(f"excluded by not_on = {', '.join(excluded)}")
    return out


def _secret_shortfalls(experiment: Experiment, unit: Unit, site: Site) -> list[str]:
    secrets = {s.name: s for s in experiment.secrets}
    out = []
    for var in sorted(unit.env):
        value = unit.env[var]
        if value.kind != "secret" or value.secret not in secrets:
            continue
        secret = secrets[value.secret]
        mappings = registry.of(site).secret_mappings()
        if all(getattr(secret, field) is None for field in mappings):
            # A mapping named after the kind needs no "for <kind> hosts".
            where = "" if site.kind in mappings else f" for {site.kind} hosts"
            out.append(f"secret `{secret.name}` has no {' or '.join(mappings)} mapping{where}")
    return out


def shortfalls(experiment: Experiment, unit: Unit, pool: Pool) -> list[str]:
    """Why `unit` can never run on `pool`; empty when it can. A unit with
    shapes fits when one of its shapes does; otherwise the reasons are
    those of the shape that came closest, naming it."""
    if isinstance(unit, StageInstance) and unit.shapes:
        best: list[str] | None = None
        for index, resolved in shapes.alternatives(unit):
            reasons = _shortfalls(experiment, resolved, pool)
            if not reasons:
                return []
            if best is None or len(reasons) < len(best):
                best = [f"shape {index + 1} ({shapes.describe(resolved.resources)}): {reasons[0]}", *reasons[1:]]
        return best or []
    return _shortfalls(experiment, unit, pool)


def _shortfalls(experiment: Experiment, unit: Unit, pool: Pool) -> list[str]:
    site = experiment.site(pool.site)
    out = _placement_shortfalls(unit, pool)
    kind = registry.of(site)
    if isinstance(unit, Service) and not kind.has(Feature.SERVICES):
        out.append(f"a service cannot run on a {kind.title} site")
    nodes = unit.resources.nodes
    if nodes > 1 and not kind.has(Feature.MULTI_NODE):
        out.append(f"needs {nodes} nodes at once, a {kind.title} site runs a stage on one")
    elif nodes > pool.nodes > 0:  # a pool of no nodes is placement's to report (E0805)
        out.append(f"needs {shapes.describe(unit.resources)}, {pool.id} has {pool.nodes} node{'s' if pool.nodes != 1 else ''}")
    launcher = unit.launch.kind if isinstance(unit, StageInstance) and unit.launch is not None else None
    if launcher == "mpirun" and not kind.has(Feature.MPI_LAUNCH):
        out.append(f"launch = mpirun: a {kind.title} site does not start MPI programs")
    out.extend(_resource_shortfalls(unit, pool))
    if isinstance(unit, Service):
        # One that lives for the experiment runs for its consumers' span
        # (a job of at most max_time); a persistent one, indefinitely.
        if pool.max_time is not None and unit.lifetime == "persistent":
            out.append(f"a persistent service runs indefinitely, max_time is {human_duration(pool.max_time)}")
        elif pool.max_time is not None and unit.resources.time > pool.max_time:
            out.append(f"needs {human_duration(unit.resources.time)}, max_time is {human_duration(pool.max_time)}")
        capacity = per_node_fit(unit, pool) * pool.nodes
        if not _resource_shortfalls(unit, pool) and capacity < unit.replicas:
            out.append(f"needs {unit.replicas} replicas, the pool holds {capacity}")
    elif pool.max_time is not None and unit.resources.time > pool.max_time:
        out.append(
            f"needs {human_duration(unit.resources.time)}, "
            f"max_time is {human_duration(pool.max_time)}"
        )
    out.extend(_secret_shortfalls(experiment, unit, site))
    return out


def all_pools(experiment: Experiment) -> list[Pool]:
    """Every pool, in declaration order."""
    return [pool for site in experiment.sites for pool in site.pools]


def candidate_pools(experiment: Experiment, unit: Unit) -> list[Pool]:
    """The pools that can run `unit`, in declaration order."""
    return [pool for pool in all_pools(experiment) if not shortfalls(experiment, unit, pool)]


def nearest_pool(experiment: Experiment, unit: Unit) -> tuple[Pool, list[str]] | None:
    """The pool with the fewest shortfalls (first declared on ties) and its
    shortfalls: what an error message names when no pool fits."""
    best: tuple[Pool, list[str]] | None = None
    for pool in all_pools(experiment):
        reasons = shortfalls(experiment, unit, pool)
        if best is None or len(reasons) < len(best[1]):
            best = (pool, reasons)
    return best
