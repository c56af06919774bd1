"""The bash scripts of a Kubernetes site: `run-<unit>.sh` applies one
workload and waits for it, `up.sh` prepares the site (namespace, work volume,
data mover), `down.sh` removes what the experiment deployed.

Every script reads KUBE_CONTEXT and KUBE_NAMESPACE from the environment (the
Snakefile exports them from config.yaml), with the IR's values as defaults.
Every value from the IR reaches the script through shlex.quote."""

from __future__ import annotations

from shlex import quote

from compiler.backends.kubernetes.serialise import header
from compiler.backends.kubernetes.workloads import JobWorkload, ServiceWorkload
from compiler.ir import Site, Span

KUBECTL = 'kubectl --context "$KUBE_CONTEXT" -n "$KUBE_NAMESPACE"'
LOG_TAIL = 50  # log lines shown per failed pod
WAIT_SLICE = "30s"  # how long `kubectl wait` blocks before the failure check


def _prologue(site: Site, span: Span, purpose: str, *, reads_manifests: bool = True) -> list[str]:
    settings = site.kubernetes
    assert settings is not None
    lines = [
        "#!/usr/bin/env bash",
        header(span).rstrip("\n"),
        "# " + " ".join(purpose.split()),
        "set -euo pipefail",
        "",
        f"KUBE_CONTEXT=${{KUBE_CONTEXT:-{quote(settings.context or '')}}}",
        f"KUBE_NAMESPACE=${{KUBE_NAMESPACE:-{quote(settings.namespace)}}}",
    ]
    if reads_manifests:  # they lie beside the script, wherever it is run from
        lines.append('here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"')
    return [*lines, ""]


def _script(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def job_run_script(site: Site, workload: JobWorkload, manifest: str) -> str:
    job = quote(workload.name)
    lines = _prologue(site, workload.stage.span, f"Runs stage {workload.stage.name} as Job {workload.name} and waits.")
    lines += [
        f"job={job}",
        "",
        "job_is() {  # Complete or Failed",
        f'  [[ "$({KUBECTL} get job "$job" --ignore-not-found \\',
        '    -o jsonpath="{.status.conditions[?(@.type==\\"$1\\")].status}")" == True ]]',
        "}",
        "",
        "# A Job is immutable and runs once: a finished one (from an earlier run)",
        "# is removed so that this run starts afresh; a running one is waited for.",
        "if job_is Complete || job_is Failed; then",
        f'  {KUBECTL} delete job "$job" --wait=true',
        "fi",
        f'{KUBECTL} apply -f "$here/"{quote(manifest)}',
        "",
        f'until {KUBECTL} wait --for=condition=complete --timeout={WAIT_SLICE} "job/$job" >/dev/null 2>&1; do',
        "  if job_is Failed; then",
        '    echo "mlc: Job $job failed; the last lines of its failed pods follow" >&2',
        f'    {KUBECTL} get pods -l "batch.kubernetes.io/job-name=$job" \\',
        "      --field-selector=status.phase=Failed -o name |",
        "      while read -r pod; do",
        '        echo "--- $pod" >&2',
        f'        {KUBECTL} logs "$pod" --all-containers --tail={LOG_TAIL} >&2 || true',
        "      done",
        "    exit 1",
        "  fi",
        "  # `kubectl get` fails when the Job is gone, which ends the loop (set -e).",
        f'  {KUBECTL} get job "$job" -o name >/dev/null',
        "done",
        'echo "mlc: Job $job complete"',
    ]
    return _script(lines)


def service_run_script(site: Site, workload: ServiceWorkload, manifests: list[str]) -> str:
    deployment = quote(workload.name)
    lines = _prologue(
        site, workload.service.span, f"Starts service {workload.service.name} and waits until it is ready."
    )
    lines.append(f"deployment={deployment}")
    lines += [
        "# Running again means its inputs changed (a new model): roll the running",
        "# Deployment over to them, pod by pod behind the readiness probe.",
        f'running=$({KUBECTL} get "deployment/$deployment" -o name --ignore-not-found)',
    ]
    lines += [f'{KUBECTL} apply -f "$here/"{quote(manifest)}' for manifest in manifests]
    lines += [
        'if [[ -n $running ]]; then',
        f'  {KUBECTL} rollout restart "deployment/$deployment"',
        "fi",
        "",
        "# Returns non-zero when the Deployment exceeds its progress deadline.",
        f'if ! {KUBECTL} rollout status "deployment/$deployment"; then',
        '  echo "mlc: service $deployment did not become ready; its last log lines follow" >&2',
        f'  {KUBECTL} logs "deployment/$deployment" --all-containers --tail={LOG_TAIL} >&2 || true',
        "  exit 1",
        "fi",
    ]
    return _script(lines)


def up_script(site: Site, claim_manifest: str | None, mover_manifest: str, mover: str) -> str:
    """Run once before anything else on the site: transfers into the site
    need the data mover, and every pod needs the work volume."""
    lines = _prologue(site, site.span, "Prepares the site: namespace, work volume, data mover.")
    lines += [
        "# Creating a namespace, even looking one up, needs cluster-wide rights that",
        "# many users lack: create it only when the cluster says it is not there.",
        'if ! lookup="$(kubectl --context "$KUBE_CONTEXT" get namespace "$KUBE_NAMESPACE" -o name 2>&1)"; then',
        '  if [[ "$lookup" == *NotFound* ]]; then',
        '    kubectl --context "$KUBE_CONTEXT" create namespace "$KUBE_NAMESPACE"',
        "  else",
        '    echo "mlc: cannot look up namespace $KUBE_NAMESPACE, assuming it exists: $lookup" >&2',
        "  fi",
        "fi",
    ]
    if claim_manifest is not None:
        lines.append(f'{KUBECTL} apply -f "$here/"{quote(claim_manifest)}')
    lines += [
        f'{KUBECTL} apply -f "$here/"{quote(mover_manifest)}',
        f"{KUBECTL} rollout status deployment/{quote(mover)}",
    ]
    return _script(lines)


def down_script(site: Site, selector: str) -> str:
    """Deletes the experiment's Jobs, Deployments, Services and Ingresses by label, and
    with --volumes its own work volume claim; a claim named in the site
    (ir.KubernetesSettings.volume) is not labelled by mlc, so never matches."""
    lines = _prologue(
        site, site.span, "Removes what this experiment deployed on the site, and nothing else.", reads_manifests=False
    )
    lines += [
        f"selector={quote(selector)}",
        "kinds=jobs,deployments,services,ingresses",
        'if [[ "${1:-}" == --volumes ]]; then',
        "  kinds+=,persistentvolumeclaims",
        "fi",
        f'{KUBECTL} delete "$kinds" -l "$selector" --ignore-not-found --wait=true',
    ]
    return _script(lines)


def service_stop_script(site: Site, workload: ServiceWorkload, manifests: list[str]) -> str:
    """Removes what the service's run script applied: the service's
    lifetime is the experiment and its last consumer has finished."""
    lines = _prologue(site, workload.service.span,
                      f"Removes service {workload.service.name}: its last consumer has finished.")
    lines += [f'{KUBECTL} delete -f "$here/"{quote(m)} --ignore-not-found --wait=true' for m in manifests]
    return _script(lines)
