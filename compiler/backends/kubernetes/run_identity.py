"""The run identity, a run-time value (docs/kubernetes.md "Run identity").

The generated manifests name no run, so the same sources always compile to
the same files. Every script works out the run's id when it runs, from
MLC_RUN (the command line), else KUBE_RUN (config.yaml's `sites.<site>.run`),
else the user's login name, and applies the site's objects through a
throw-away kustomization that adds `-<run>` to every name and the label
`mlc.dev/run=<run>` to every object and selector. Two runs of one experiment
in one namespace thus have distinct objects, selectors and work directories
(pods mount `<experiment>/$(MLC_RUN)`), and `down.sh` deletes only its own."""

from __future__ import annotations

from compiler.backends.kubernetes.labels import RUN_LABEL

MAX_RUN = 12  # object names leave room for "-<run>" (naming.K8S_NAME_MAX)

# `run_id CONFIGURED`: MLC_RUN, else CONFIGURED (config.yaml's run), else the
# user; lower case, [a-z0-9-], at most MAX_RUN characters. Distinct ids that
# fold together (`a.b`, `a_b`) share a run (the docs say so). Transfer
# scripts use the same function to find the run's data mover.
_FOLD = ("LC_ALL=C tr '[:upper:]' '[:lower:]' | LC_ALL=C tr -c 'a-z0-9' '-' |",
         f"cut -c1-{MAX_RUN} | sed -e 's/^-*//' -e 's/-*$//'")
RUN_ID_FUNCTION = [
    "# The run identity: MLC_RUN, else config.yaml's run (the argument), else the user.",
    "run_id() {",
    '  local run=${MLC_RUN:-${1:-${USER:-$(id -un)}}}',
    f"  run=$(printf '%s' \"$run\" | {_FOLD[0]}",
    f"    {_FOLD[1]})",
    '  echo "${run:-run}"',
    "}",
]

# The same id as one shell word, for a script on another site that calls a
# service of the run: KUBE_RUN is config.yaml's run where the workflow gives
# it (a consumer on the workflow machine, SiteKind.consumer_env), else unset.
RUN_ID_WORD = ('"$(run=$(printf \'%s\' "${MLC_RUN:-${KUBE_RUN:-${USER:-$(id -un)}}}" | ' + " ".join(_FOLD)
               + '); echo "${run:-run}")"')

RUN_ID = [*RUN_ID_FUNCTION, 'run=$(run_id "${KUBE_RUN:-}")']

# Defines `apply_run SELECTOR [KUSTOMIZATION]`: kubectl apply -k of the site folder, or of
# the user's overlay (KUBE_OVERLAY, relative to the output folder), for this
# run, keeping only the objects SELECTOR matches. kustomize refuses a root
# inside the folder it builds, so the throw-away kustomization lives in a
# temporary directory and reaches the folder through a symlink: no path is
# ever written into YAML. Values are quoted: a run `1234` is a string.
# The namespace is set again: KUBE_NAMESPACE may differ from the site's.
# KUSTOMIZATION (YAML from a serialiser) is added to the run's kustomization:
# what must follow the run's names (an Ingress host, ingress.py).
APPLY_RUN = [
    "apply_run() {",
    '  local base=${KUBE_OVERLAY:-$here} overlay',
    '  [[ $base == /* ]] || base="$here/../../$base"',
    '  base=$(cd -- "$base" && pwd -P)',
    "  # The namespace goes into the overlay (kubectl refuses objects whose",
    "  # namespace differs from -n), so it must be a namespace name.",
    "  if ! [[ $KUBE_NAMESPACE =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; then",
    '    echo "mlc: KUBE_NAMESPACE=$KUBE_NAMESPACE is not a Kubernetes namespace name" >&2',
    "    return 1",
    "  fi",
    "  overlay=$(mktemp -d)",
    '  ln -s -- "$base" "$overlay/base"',
    "  printf '%s\\n' 'resources: [base]' \"namespace: '$KUBE_NAMESPACE'\" \"nameSuffix: '-$run'\" 'labels:' \\",
    f"    \"- pairs: {{{RUN_LABEL}: '$run'}}\" '  includeSelectors: true' ${{2:+\"$2\"}} >\"$overlay/kustomization.yaml\"",
    '  kubectl --context "$KUBE_CONTEXT" -n "$KUBE_NAMESPACE" apply -k "$overlay" -l "$1" || {',
    '    rm -rf -- "$overlay"',
    "    return 1",
    "  }",
    '  rm -rf -- "$overlay"',
    "}",
]


def run_id(configured: str = "") -> str:
    """The run identity as the scripts work it out (RUN_ID_FUNCTION), for
    `mlc status` on this machine: byte by byte, as `tr` in the C locale."""
    import getpass
    import os

    run = os.environ.get("MLC_RUN") or configured or os.environ.get("USER") or getpass.getuser()
    folded = "".join(c if c.isascii() and (c.islower() or c.isdigit()) else "-"
                     for c in (chr(b).lower() if b < 128 else "-" for b in os.fsencode(run)))
    return folded[:MAX_RUN].strip("-") or "run"
