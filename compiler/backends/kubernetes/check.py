"""The results check of a Kubernetes site (docs/running.md "Results and the
cache"): a short Job mounting the run's work directory runs the same fixed
stat script as on Slurm and ssh sites (runner/remote_results.SCRIPT) over
every result the site's stages write, and `check.sh` applies it for the run,
reads its log and deletes it.

The Job's paths are fixed at compile time (the manifest names no run, and
the same sources compile to the same files); `check.sh PATH...` answers for
the paths it is given, in their order, as the other kinds' query does: it
prints `INDEX SIZE MTIME` per given path that exists, INDEX being the place
of the path among its arguments. No file name is parsed back: the Job
prints its own indices, which the script maps through the list it was
generated with."""

from __future__ import annotations

from shlex import quote

from compiler.backends.kubernetes import labels, pods
from compiler.backends.kubernetes.scripts import KUBECTL, prologue, script_text, instance_selector
from compiler.backends.kubernetes.tool_jobs import tool_job
from compiler.backends.naming import K8S_NAME_MAX, dns1123
from compiler.ir import Experiment, Plan, Site
from compiler.lazy import lazy_module

client = lazy_module("kubernetes.client")

SCRIPT = "check.sh"
# Pulling the image on a cold node included; within the runner's limit for
# the whole query (runner/remote_results.TIMEOUT), so the script, not the
# runner, gives up and deletes its Job.
WAIT = "90s"


def job_name(experiment: Experiment) -> str:
    return dns1123(f"{experiment.name}-check", K8S_NAME_MAX)


def site_results(experiment: Experiment, plan: Plan, site_name: str) -> list[str]:
    """The results the site's stages write (relative to its work tree), as
    results.json lists them."""
    return sorted({output.path for a in plan.assignments if a.site == site_name and a.kind == "instance"
                   for output in experiment.instance(a.unit).outputs})


def check_job(experiment: Experiment, site: Site, claim: str, paths: list[str]) -> client.V1Job:
    from compiler.runner.remote_results import SCRIPT as STAT  # the one stat script of every kind

    name = job_name(experiment)
    object_labels = labels.object_labels(experiment.name, name="check", instance=name, component="check")
    # The transfer image: a small one with a POSIX sh and stat, pulled for
    # transfers anyway. `$` doubled: the kubelet expands $(VAR) in a command.
    command = ["sh", "-c", pods.command_literal(STAT), "sh", pods.WORK_MOUNT, *map(pods.command_literal, paths)]
    return tool_job(experiment, site, claim, name=name, object_labels=object_labels, command=command,
                    requests={"cpu": "100m", "memory": "64Mi"}, limits={"cpu": "500m", "memory": "128Mi"},
                    backoff_limit=1)  # check.sh deletes it after reading its log


def check_script(experiment: Experiment, site: Site, paths: list[str], claim: str, owned: bool) -> str:
    """`owned`: the claim is mlc's (applied for the run, so named with its
    suffix), not one the site names."""
    name = job_name(experiment)
    purpose = ("Tells which of the results given as arguments exist in the run's work directory, with size and "
               f"mtime: applies Job {name} for the run, reads its log and deletes it (`mlc run` calls it).")
    lines = prologue(site, experiment.span, purpose)
    lines += [
        "# The Job's paths, in its order: it prints `INDEX SIZE MTIME` per path that exists.",
        "results=(" + " ".join(quote(p) for p in paths) + ")",
        "declare -A wanted=()",
        "i=0",
        'for path in "$@"; do',
        '  wanted[$path]=$i',
        "  i=$((i + 1))",
        "done",
        "",
        "# No work volume (`mlc down --volumes`, never set up): no results, and a",
        "# Job would wait for it in vain. Not asking (no rights) fails the script.",
        f'claim={quote(claim)}' + ('-"$run"' if owned else ""),
        f'volume=$({KUBECTL} get persistentvolumeclaim "$claim" --ignore-not-found -o name)',
        '[[ -n $volume ]] || exit 0',
        "",
        f'job={quote(name)}-"$run"',
        "# A Job runs once: an earlier check of this run is removed first, this one at the end.",
        f'{KUBECTL} delete job "$job" --ignore-not-found --wait=true >/dev/null',
        f'trap \'{KUBECTL} delete job "$job" --ignore-not-found --wait=false >/dev/null 2>&1 || true\' EXIT',
        f"apply_run {instance_selector(name)} >/dev/null",
        f'if ! {KUBECTL} wait --for=condition=complete --timeout={WAIT} "job/$job" >/dev/null; then',
        '  echo "mlc: the results check Job $job did not complete" >&2',
        "  exit 1",
        "fi",
        f'{KUBECTL} logs "job/$job" | while read -r index rest; do',
        '  if [[ $index =~ ^[0-9]+$ ]] && (( index < ${#results[@]} )); then',
        '    path=${results[index]}',
        '    if [[ -n ${wanted[$path]+given} ]]; then',
        '      echo "${wanted[$path]} $rest"',
        "    fi",
        "  fi",
        "done",
    ]
    return script_text(lines)
