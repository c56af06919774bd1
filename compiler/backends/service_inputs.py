"""Services a unit uses (`in api = detector`): the address `${in.api}`
stands for on the consumer's site, and the shell lines that wait, before the
command runs, until each one answers its health check.

The address comes from the service's site kind (SiteKind.service_address):
a URL known now, or a file in the work tree the service writes its URL to
once it is ready. The wait is plain bash (/dev/tcp), so it needs nothing
in a container image that the command does not already need."""

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
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$2" "$host" >&3
  read -r -t 10 _ status _ <&3 || exit 1
  [[ $status == [23]?? ]]
)'''
WAIT_FUNCTIONS = ANSWERS + r'''
# mlc_wait_ready VARIABLE URL PUBLISHED HEALTH: waits until the service
# answers (its URL given, or read from PUBLISHED once the service wrote it),
# then exports VARIABLE=URL for the command.
mlc_wait_ready() {
  local url=$2 waited=0
  until [[ -n $url ]] && mlc_answers "$url" "$4" 2>/dev/null; do
    if [[ -z $url && -s $3 ]]; then url=$(<"$3"); continue; fi
    if ((waited >= ${MLC_READY_TIMEOUT:-600})); then
      echo "mlc: service ${url:-(no address in $3 yet)} is not ready after ${waited}s" >&2
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  export "$1=$url"
}'''


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


def wait_lines(experiment: Experiment, plan: Plan, unit: str) -> str:
    """Shell lines (quoted, ending in a newline) that wait for every service
    `unit` uses; empty when it uses none."""
    calls = []
    for port in experiment.unit(unit).inputs:
        if port.service is None:
            continue
        where = address(experiment, plan, unit, port)
        service = experiment.unit(port.service)
        words = [shlex.quote(w) for w in (f"MLC_IN_{port.name}", where.url or "", where.published or "",
                                            service.health or "")]
        if where.url and where.run_suffix_at is not None:  # the pod's run, known only in the cluster
            at = where.run_suffix_at
            words[1] = shlex.quote(where.url[:at]) + '"-${MLC_RUN:?}"' + shlex.quote(where.url[at:])
        calls.append("mlc_wait_ready " + " ".join(words))
    if not calls:
        return ""
    return "# Wait until the services it uses are ready.\n" + WAIT_FUNCTIONS + "\n" + "\n".join(calls) + "\n"
