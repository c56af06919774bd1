"""Services a unit uses (`in api = detector`): the address `${in.api}`
stands for on the consumer's site, and the shell lines that wait, before the
command runs, until each one answers its health check.

The address comes from the service's site kind (SiteKind.service_address):
a URL known now, a shell word for one that names run-time values (a
Kubernetes run, its namespace), or a file in the work tree the service
writes its URL to once it is ready. The wait is plain bash (/dev/tcp), so it needs nothing
in a container image that the command (run by bash) does not already need.
A sweep's script defines it once; each member waits for its own services.
`health = "tcp"` (or none) waits only until the port accepts a connection."""

from __future__ import annotations

import shlex

from ..ir import Experiment, Input, Plan
from ..sites import registry
from ..sites.base import ServiceAddress
from .errors import BackendError

# Defined once per script that waits. `mlc_answers URL PATH` is true when the
# server at URL accepts a connection and, with a PATH, answers it 2xx or 3xx;
# a subshell, so a refused connection is a false test, never an exit.
ANSWERS = r'''mlc_answers() (
  rest=${1#*://}; rest=${rest%%/*}; host=${rest%:*}; port=80
  [[ $rest == *:* ]] && port=${rest##*:}
  exec 3<>"/dev/tcp/$host/$port" || exit 1
  [[ -z $2 ]] && exit 0
  printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$host" >&3
  read -r -t 10 _ status _ <&3 || exit 1
  [[ $status == [23]?? ]]
)'''
# `bash -c "$mlc_ready" mlc_ready URL PUBLISHED HEALTH` waits until the
# service answers (its URL given, or read from PUBLISHED once the service
# wrote it) and prints its URL. A program run by bash, not a function: a
# pod's glue is /bin/sh, which has neither /dev/tcp nor [[.
READY = ANSWERS + r'''
url=$1 waited=0
until [[ -n $url ]] && mlc_answers "$url" "$3" 2>/dev/null; do
  if [[ -z $url && -s $2 ]]; then url=$(<"$2"); continue; fi
  if ((waited >= ${MLC_READY_TIMEOUT:-600})); then
    echo "mlc: service ${url:-(no address in $2 yet)} is not ready after ${waited}s" >&2
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done
echo "$url"'''


def address(experiment: Experiment, plan: Plan, unit: str, port: Input) -> ServiceAddress:
    """Where the unit `unit` finds the service bound to `port`."""
    assert port.service is not None
    service = experiment.unit(port.service)
    site = experiment.site(plan.where(port.service).site)
    consumer = experiment.site(plan.where(unit).site)
    kind = registry.of(site)
    if kind.service_reach(site, consumer) is None:
        raise BackendError(f"`{unit}` on {consumer.name} cannot reach service `{service.name}` on {site.name}",
                           port.span)
    return kind.service_address(experiment, site, service, consumer)


def wait_calls(experiment: Experiment, plan: Plan, unit: str) -> str:
    """Lines (quoted, ending in a newline) that wait for each service `unit`
    uses and export its URL as MLC_IN_<port>; empty when it uses none. The
    program they run comes from `functions()`, once per script."""
    calls = []
    for port in experiment.unit(unit).inputs:
        if port.service is None:
            continue
        where = address(experiment, plan, unit, port)
        service = experiment.unit(port.service)
        url = where.shell if where.shell is not None else shlex.quote(where.url or "")
        variable = f"MLC_IN_{port.name}"
        words = " ".join(shlex.quote(w) for w in (where.published or "", service.http_health or ""))
        calls.append(f'{variable}=$(bash -c "$mlc_ready" mlc_ready {url} {words})\nexport {variable}\n')
    return "".join(calls)


def functions() -> str:
    """The wait program the calls run (once per script, however many
    members of an array it holds)."""
    return ("# Wait until the services it uses are ready (MLC_READY_TIMEOUT seconds at most).\n"
            f"mlc_ready={shlex.quote(READY)}\n")


def wait_lines(experiment: Experiment, plan: Plan, unit: str) -> str:
    """The program and the calls that wait for every service `unit` uses,
    for a script that runs one unit; empty when it uses none."""
    calls = wait_calls(experiment, plan, unit)
    return functions() + calls if calls else ""
