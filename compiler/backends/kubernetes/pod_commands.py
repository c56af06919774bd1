"""The shell script a container runs: the unit's command line from the shared
renderer, after creating its outputs' directories and exporting the values
and paths it refers to (the same route as on hosts, docs/codegen.md). An Indexed Job's pods all
share one script that picks the member's command from the completion index."""

from __future__ import annotations

import shlex

from compiler.backends import launch
from compiler.backends.cache_recipe import recipe_text
from compiler.backends.commands import output_parents, render_command
from compiler.backends.kubernetes import multinode
from compiler.backends.service_inputs import functions, wait_calls, wait_lines
from compiler.shell_context import export_line
from compiler.backends.kubernetes.pods import WORK_MOUNT, env_name
from compiler.backends.kubernetes.workloads import JobWorkload
from compiler.ir import Experiment, LiteralEnv, Plan, StageInstance

SHELL = ["/bin/sh", "-c"]  # the glue; the user's command runs under bash, as on hosts
# One command semantics on every kind (local and Slurm do the same): bash with
# -e and pipefail, exec'd so that a one-command process is the pod's PID 1 and
# receives SIGTERM itself (a shell as PID 1 ignores it).
NEEDS_BASH = ('command -v bash >/dev/null || { echo "mlc: the command runs under bash '
               '-eo pipefail, and this image has no bash" >&2; exit 127; }')
RUN_COMMAND = 'exec bash -eo pipefail -c "$command"'


def cached_command() -> str:
    """A stage's command runs through the result cache (runner/step_cache.py,
    shipped to the work volume) when the image has python3 to run it; an
    image without runs it uncached (RUN_COMMAND, the next line), as does a
    pod started by hand before the ship step brought the copy. The cache
    keeps its results in the work tree the pod starts in (/work/.mlc/cache)."""
    from compiler.runner.step_cache import STEP_CACHE_HERE  # the runner imports the back ends

    cache = f"{WORK_MOUNT}/{STEP_CACHE_HERE}"
    return (f'if command -v python3 >/dev/null && [ -f {cache} ]; then exec python3 {cache} "$recipe" '
            'bash -eo pipefail -c "$command"; fi')


def _member_lines(experiment: Experiment, plan: Plan, instance: StageInstance, varying_env: list[str],
                  rendezvous: launch.Rendezvous | None = None, cached: bool = False) -> list[str]:
    lines = []
    command = render_command(experiment, plan, instance.id)  # once: the recipe holds it too
    if cached:
        lines.append(f"recipe={shlex.quote(recipe_text(experiment, plan, instance.id, command))}")
    for name in varying_env:
        value = instance.env[name]
        assert isinstance(value, LiteralEnv), "only literal values vary per index"
        lines.append(f"export {env_name(name, instance.span)}={shlex.quote(value.value)}")
    parents = output_parents(experiment, instance.id)
    if parents:
        lines.append("mkdir -p -- " + " ".join(shlex.quote(p) for p in parents))
    lines.extend(export_line(name, value) for name, value in command.exports)
    wait = wait_calls(experiment, plan, instance.id)
    if wait:
        lines.append(wait.rstrip("\n"))
    text = command.text
    if rendezvous is not None:
        text = launch.wrap(instance, text, rendezvous)
    lines.append(f"command={shlex.quote(text)}")
    return lines


def varying_literal_env(workload: JobWorkload) -> list[str]:
    """Literal environment variables whose value differs between the members
    of an Indexed Job: exported per index instead of set on the container."""
    first = workload.instances[0].env
    return sorted(
        name
        for name, value in first.items()
        if value.kind == "literal" and any(inst.env[name] != value for inst in workload.instances[1:])
    )


def _wait_functions(experiment: Experiment, plan: Plan, workload: JobWorkload) -> list[str]:
    """The wait program, once per script (its members run it)."""
    waits = any(wait_calls(experiment, plan, instance.id) for instance in workload.instances)
    return [functions().rstrip("\n")] if waits else []


def job_script(experiment: Experiment, plan: Plan, workload: JobWorkload, cached: bool = False) -> str:
    """`cached`: the result cache's copy reaches the work volume. A
    multi-node stage's pods each run the command, so it is never cached:
    there is not one result to keep."""
    varying = varying_literal_env(workload)
    waits = _wait_functions(experiment, plan, workload)
    if multinode.is_gang(workload):  # one member; the completion index is the node's rank
        first = workload.instances[0]
        body = _member_lines(experiment, plan, first, varying, multinode.rendezvous(workload))
        lines = ["set -eu", NEEDS_BASH, *waits, *multinode.setup_lines(workload), *body,
                 *multinode.run_lines(first, RUN_COMMAND)]
        return "\n".join(lines) + "\n"
    if not workload.indexed:
        body = _member_lines(experiment, plan, workload.instances[0], varying, cached=cached)
        run = [cached_command()] if cached else []
        return "\n".join(["set -eu", NEEDS_BASH, *waits, *body, *run, RUN_COMMAND]) + "\n"
    lines = ["set -eu", NEEDS_BASH, *waits, 'case "${JOB_COMPLETION_INDEX:?}" in']
    for index, instance in enumerate(workload.instances):
        lines.append(f"{index})")
        lines.extend(_member_lines(experiment, plan, instance, varying, cached=cached))
        lines.append(";;")
    lines.append('*) echo "mlc: no member for completion index $JOB_COMPLETION_INDEX" >&2; exit 64 ;;')
    lines.append("esac")
    if cached:
        lines.append(cached_command())  # each member with its own recipe, set above
    lines.append(RUN_COMMAND)
    return "\n".join(lines) + "\n"


def service_script(experiment: Experiment, plan: Plan, service_name: str) -> str | None:
    """None when the service has no command: the image's entrypoint runs."""
    command = render_command(experiment, plan, service_name)
    if not command.text.strip():
        return None
    exports = "".join(export_line(name, value) + "\n" for name, value in command.exports)
    wait = wait_lines(experiment, plan, service_name)
    return f"set -eu\n{NEEDS_BASH}\n{exports}{wait}command={shlex.quote(command.text)}\n{RUN_COMMAND}\n"
