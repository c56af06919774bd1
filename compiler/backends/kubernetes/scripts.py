"""The bash scripts of a Kubernetes site: `run-<unit>.sh` applies one
workload and waits for it, `up.sh` prepares the site (namespace, work volume,
data mover), `down.sh` removes what this run deployed.

Every script reads KUBE_CONTEXT and KUBE_NAMESPACE from the environment (the
Snakefile exports them from config.yaml), with the IR's values as defaults,
and works out the run identity (run_identity.py). Objects are applied with
`kubectl apply -k` of the site folder (or the user's overlay) for this run,
filtered by label to the workload at hand, so an overlay reaches every run.
Every value from the IR reaches the script through shlex.quote."""

from __future__ import annotations

from shlex import quote

from compiler.backends.kubernetes import labels
from compiler.backends.kubernetes.run_identity import APPLY_RUN, RUN_ID
from compiler.backends.kubernetes.serialise import header
from compiler.backends.kubernetes.workloads import JobWorkload, ServiceWorkload, rule_name
from compiler.ir import Site, Span

KUBECTL = 'kubectl --context "$KUBE_CONTEXT" -n "$KUBE_NAMESPACE"'
LOG_TAIL = 50  # log lines shown per failed pod
WAIT_SLICE = "30s"  # how long `kubectl wait` blocks before the failure check


def prologue(site: Site, span: Span, purpose: str, *, applies: bool = True) -> list[str]:
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
    lines += RUN_ID
    if applies:  # the manifests lie beside the script, wherever it is run from
        lines.append('here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"')
        lines += ["", *APPLY_RUN]
    return [*lines, ""]


def instance_selector(name: str) -> str:
    """The selector of one workload's objects in the site's kustomization."""
    return quote(f"app.kubernetes.io/instance={name}")


def script_text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def job_run_script(site: Site, workload: JobWorkload) -> str:
    purpose = f"Runs stage {workload.stage.name} as Job {workload.name} and waits."
    return run_job_script(site, workload.name, workload.stage.span, purpose, usage=rule_name(workload.unit))


def run_job_script(site: Site, name: str, span: Span, purpose: str, usage: str | None = None) -> str:
    """Applies Job `name` (for this run) and waits until it completes. With
    `usage` (a stage's rule), the Job's pods are recorded for the run
    records, however the script ends."""
    lines = prologue(site, span, purpose)
    lines += [f'job={quote(name)}-"$run"', ""]
    if usage is not None:
        lines += [
            "# What the Job's pods report (start, end, exit code, node, restarts, image",
            "# id) goes to the output folder's .mlc/usage/ for `mlc report`, however",
            "# this script ends (docs/records.md).",
            f'usage="$here/../../.mlc/usage/"{quote(usage + ".pods.json")}',
            "record_pods() {  # never changes the script's exit status",
            '  mkdir -p -- "${usage%/*}" || return 0',
            f'  if {KUBECTL} get pods -l "batch.kubernetes.io/job-name=$job" -o json >"$usage.tmp"; then',
            '    mv -- "$usage.tmp" "$usage" || true',
            "  else",
            '    rm -f -- "$usage.tmp"',
            "  fi",
            "}",
            "trap record_pods EXIT",
            "",
        ]
    lines += [
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
        f"apply_run {instance_selector(name)}",
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
    return script_text(lines)


def service_run_script(site: Site, workload: ServiceWorkload, kustomization: str = "") -> str:
    """`kustomization`: added to the run's (ingress.host_follows_run)."""
    lines = prologue(
        site, workload.service.span, f"Starts service {workload.service.name} and waits until it is ready."
    )
    lines.append(f'deployment={quote(workload.name)}-"$run"')
    lines += [
        "# Running again means its inputs changed (a new model): roll the running",
        "# Deployment over to them, pod by pod behind the readiness probe.",
        f'running=$({KUBECTL} get "deployment/$deployment" -o name --ignore-not-found)',
    ]
    if kustomization:
        lines.append("# The Deployment, its Service and its Ingress, whose host names the run: <object>-<run>.<expose>.")
        lines.append(f"apply_run {instance_selector(workload.name)} {quote(kustomization)}")
    else:
        lines.append(f"apply_run {instance_selector(workload.name)}  # the Deployment and its Service")
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
    return script_text(lines)


def up_script(site: Site, claim: str | None, mover: str | None) -> str:
    """Run once before anything else on the site: every pod needs the work
    volume, and transfers through `kubectl exec` the data mover (None: none
    is used). The namespace is applied only when the site says mlc owns it
    (own_namespace)."""
    settings = site.kubernetes
    assert settings is not None
    what = "work volume, data mover" if mover is not None else "work volume"
    lines = prologue(site, site.span, f"Prepares the site for this run: {what}.")
    if settings.own_namespace:
        lines += [
            "# The site says mlc owns the namespace: create it (down.sh never deletes it).",
            'kubectl --context "$KUBE_CONTEXT" apply -f "$here/namespace.yaml"',
        ]
    names = [name for name in (claim, mover) if name is not None]
    if names:
        selector = f"app.kubernetes.io/instance in ({','.join(names)})"
        lines.append(f"apply_run {quote(selector)}")
    if mover is not None:
        lines.append(f'{KUBECTL} rollout status deployment/{quote(mover)}-"$run"')
    if not names:
        lines.append("# Nothing to prepare: the work volume is the site's own and no data mover is used.")
    return script_text(lines)


def down_script(site: Site, selector: str) -> str:
    """Deletes this run's Jobs, Deployments, Services and Ingresses by label,
    and with --volumes its own work volume claim; a claim named in the site
    (ir.KubernetesSettings.volume) is not labelled by mlc, so never matches,
    and neither is the namespace."""
    lines = prologue(
        site, site.span, "Removes what this run deployed on the site, and nothing else.", applies=False
    )
    lines += [
        f'selector={quote(selector)},{labels.RUN_LABEL}="$run"',
        "kinds=jobs,deployments,services,ingresses",
        'if [[ "${1:-}" == --volumes ]]; then',
        "  kinds+=,persistentvolumeclaims",
        "fi",
        f'{KUBECTL} delete "$kinds" -l "$selector" --ignore-not-found --wait=true',
    ]
    return script_text(lines)


def service_stop_script(site: Site, workload: ServiceWorkload) -> str:
    """Removes what the service's run script applied for this run (found by
    its instance and run labels: the applied names carry the run's suffix):
    the service's lifetime is the experiment and its last consumer has finished."""
    lines = prologue(site, workload.service.span,
                      f"Removes service {workload.service.name}: its last consumer has finished.", applies=False)
    selector = f"app.kubernetes.io/instance={workload.name},{labels.RUN_LABEL}="
    lines.append(f'{KUBECTL} delete deployments,services,ingresses -l {quote(selector)}"$run" '
                 "--ignore-not-found --wait=true")
    return script_text(lines)
