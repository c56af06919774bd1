"""How a unit's command line and environment look in a shell on the site
that runs it. Shared by every back end (Kubernetes included), so a port
resolves to the same path everywhere.

A command is user-written shell (ir.Text, inserted verbatim) with values
(ir.Value) and ports (ir.PortRef: paths relative to the site's work root).
Values and paths reach the command as environment variables the script
exports first; compiler/shell_context.py decides how the command refers to
them, by where each one stands in the shell text."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from ..ir import (
    DataRef, DatasetRef, Experiment, Input, Output, OutputRef, Plan, PortRef, Service, StageInstance, Text, Value,
)
from ..shell_context import Rendered, ShellSyntaxError, Site, SiteError, render
from . import service_inputs
from .errors import BackendError

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def unit_of(experiment: Experiment, unit: str) -> StageInstance | Service:
    """The stage instance or service called `unit`."""
    return experiment.unit(unit)


def render_command(experiment: Experiment, plan: Plan, unit: str) -> Rendered:
    """The unit's command, referring to its values and port paths by
    variable, and the (variable, value) pairs to export before it runs."""
    target = unit_of(experiment, unit)
    pieces: list = setup_lines(target)
    for part in target.command:
        if isinstance(part, Text):
            pieces.append(part.text)
        elif isinstance(part, Value):
            pieces.append(Site(f"VALUE_{part.name}", (part.value,)))
        else:
            paths = port_paths(experiment, plan, unit, part)
            pieces.append(Site(f"{part.direction.upper()}_{part.name}", tuple(map(not_an_option, paths))))
    try:
        return render(pieces)
    except ShellSyntaxError as error:
        raise BackendError(f"the command of `{unit}` cannot be read: {error}", target.span) from None
    except SiteError as error:
        sites = [p for p in target.command if not isinstance(p, Text)]
        where = sites[error.index]
        span = where.span if isinstance(where, Value) and where.span else target.span
        raise BackendError(f"{error.message} (in `{unit}`; {error.hint})", span) from None


def setup_lines(unit: StageInstance | Service) -> list[str]:
    """A stage's `setup`: user shell run before the command in its shell,
    on every kind of site (a container's too)."""
    setup = unit.software.setup if isinstance(unit, StageInstance) else None
    return [setup + "\n"] if setup else []


def not_an_option(path: str) -> str:
    """A relative path starting with `-` reads as an option to most commands."""
    return "./" + path if path.startswith("-") else path


def port_paths(experiment: Experiment, plan: Plan, unit: str, ref: PortRef) -> list[str]:
    """The path(s) a port stands for at the site that runs `unit`."""
    target = unit_of(experiment, unit)
    if ref.direction == "out":
        for output in _outputs(target):
            if output.name == ref.name:
                return [output.path]
        raise BackendError(f"`{unit}` has no output `{ref.name}`", target.span)
    for port in target.inputs:
        if port.name == ref.name:
            return _input_paths(experiment, plan, unit, port)
    raise BackendError(f"`{unit}` has no input `{ref.name}`", target.span)


def _input_paths(experiment: Experiment, plan: Plan, unit: str, port: Input) -> list[str]:
    site = plan.where(unit).site
    if port.dataset is not None:
        dataset = next((d for d in experiment.datasets if d.name == port.dataset), None)
        if dataset is None:
            raise BackendError(f"unknown data set `{port.dataset}`", port.span)
        if dataset.site == site:
            return [dataset.uri]
        return [_staged_path(plan, site, DatasetRef(dataset=dataset.name)) or f"datasets/{dataset.name}"]
    if port.source is not None:
        return [port.source.path]
    if port.service is not None:
        # The service's URL when it is known now; else (published when the
        # service is ready, or naming the run) the wait sets it.
        return [service_inputs.address(experiment, plan, unit, port).url or ""]
    paths = []
    for producer, output_name in port.outputs:
        output = next((o for o in experiment.instance(producer).outputs if o.name == output_name), None)
        if output is None:
            raise BackendError(f"`{producer}` has no output `{output_name}`", port.span)
        paths.append(_staged_path(plan, site, OutputRef(instance=producer, output=output_name)) or output.path)
    return paths


def _staged_path(plan: Plan, site: str, what: DataRef) -> str | None:
    """Where a transfer put `what` on `site`, if the plan moves it there."""
    transfer = plan.transfer_to(site, what)
    return transfer.target_path if transfer is not None else None


def output_parents(experiment: Experiment, unit: str) -> list[str]:
    """The directories to create before the command runs (sorted, unique)."""
    outputs = _outputs(unit_of(experiment, unit))
    return sorted({posixpath.dirname(o.path.rstrip("/")) for o in outputs} - {""})


def _outputs(unit: StageInstance | Service) -> list[Output]:
    return unit.outputs if isinstance(unit, StageInstance) else []  # services write nothing


@dataclass(frozen=True)
class HostEnv:
    """One environment variable as a Slurm or local host sets it: a literal,
    or a secret read at run time from a file or from the host's environment."""

    name: str
    literal: str | None = None
    secret_file: str | None = None
    secret_variable: str | None = None


def host_env(experiment: Experiment, unit: str) -> list[HostEnv]:
    target = unit_of(experiment, unit)
    bindings = []
    for name in sorted(target.env):
        if not _ENV_NAME.fullmatch(name):
            raise BackendError(f"`{name}` is not a valid environment variable name", target.span)
        value = target.env[name]
        if value.kind == "literal":
            bindings.append(HostEnv(name, literal=value.value))
            continue
        secret = next((s for s in experiment.secrets if s.name == value.secret), None)
        if secret is None:
            raise BackendError(f"unknown secret `{value.secret}`", target.span)
        if secret.file is not None:
            bindings.append(HostEnv(name, secret_file=secret.file))
        elif secret.env is not None and _ENV_NAME.fullmatch(secret.env):
            bindings.append(HostEnv(name, secret_variable=secret.env))
        else:
            raise BackendError(
                f"secret `{secret.name}` needs a `file` or a valid `env` to be used on a Slurm or local host",
                secret.span,
            )
    return bindings
