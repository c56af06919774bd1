"""A stand-in for kubectl in the run-script tests: it logs every call (one
JSON list per line) to $FAKE_KUBECTL_LOG and plays a Job whose outcome is
$FAKE_JOB_OUTCOME (Complete or Failed) once applied. $FAKE_JOB_BEFORE is the
Job's state before the script runs (absent, Complete or Failed);
$FAKE_NAMESPACE says how looking up the namespace goes (present, missing or
forbidden); $FAKE_CLAIM=missing makes every work volume claim absent.

`apply -k DIR -l SELECTOR` builds DIR with the real kubectl's kustomize
($FAKE_REAL_KUBECTL, when there is one) and appends the `Kind/name` of each
object the selector keeps to $FAKE_KUBECTL_LOG with the suffix `.applied`,
and `[Kind/name, labels]` to the one with the suffix `.labels`; the whole
build goes to the one with the suffix `.built`.

The results check (check.sh): applying its Job records the site folder;
`logs job/<experiment>-check-<run>` then runs the command of that folder's
check Job manifest, as its pod would, with the work tree $FAKE_WORK_TREE
mounted at /work (absent: no output)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

args = sys.argv[1:]
log = Path(os.environ["FAKE_KUBECTL_LOG"])
with log.open("a") as out:
    out.write(json.dumps(args) + "\n")
state_file = log.with_suffix(".state")
state = state_file.read_text() if state_file.exists() else os.environ.get("FAKE_JOB_BEFORE", "absent")


def verb_args():
    """The call without the global --context/-n options."""
    rest, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--context", "-n", "--namespace"):
            skip = True
        else:
            rest.append(arg)
    return rest


def objects(built: str):
    """(kind, name, labels) of each object in kustomize's output, whose
    layout is fixed (two-space indents, sorted keys); no YAML library here."""
    for document in built.split("\n---\n"):
        kind = re.search(r"^kind: (.+)$", document, re.M).group(1)
        metadata = re.search(r"^metadata:\n((?:  .*\n?)*)", document, re.M).group(1)
        name = re.search(r"^  name: (.+)$", metadata, re.M).group(1)
        block = re.search(r"^  labels:\n((?:    .*\n?)*)", metadata, re.M)
        labels = dict(
            (key, value.strip("'\"")) for key, value in re.findall(r"^    (\S+): (.*)$", block.group(1) if block else "", re.M)
        )
        yield kind, name, labels


def matches(labels: dict, selector: str) -> bool:
    """`k=v,k2=v2` or `k in (a,b)`: the two forms the scripts use."""
    group = re.fullmatch(r"(\S+) in \((.*)\)", selector)
    if group:
        return labels.get(group.group(1)) in group.group(2).split(",")
    return all(labels.get(key) == value for key, value in (term.split("=", 1) for term in selector.split(",")))


def apply_kustomization(root: str, selector: str) -> None:
    if not (Path(root) / "kustomization.yaml").is_file():
        sys.exit(f"error: {root} has no kustomization.yaml")
    if selector.endswith("-check"):  # the results check Job: its site folder, for `logs`
        log.with_suffix(".check").write_text(str((Path(root) / "base").resolve()))
    real = os.environ.get("FAKE_REAL_KUBECTL")
    if not real:
        return
    built = subprocess.run([real, "kustomize", root], capture_output=True, text=True)
    if built.returncode != 0:
        sys.exit(built.stderr)
    with log.with_suffix(".built").open("a") as out:
        out.write(built.stdout + "---\n")
    with log.with_suffix(".applied").open("a") as out:
        for kind, name, labels in objects(built.stdout):
            if matches(labels, selector):
                out.write(f"{kind}/{name}\n")
                with log.with_suffix(".labels").open("a") as labelled:
                    labelled.write(json.dumps([f"{kind}/{name}", labels]) + "\n")
                print(f"{kind.lower()}/{name} configured")


def pod(job: str, name: str, phase: str, created: str, started: str, finished: str, code: int, restarts: int):
    """One pod of the Job as `kubectl get pods -o json` shows it (the fields the records read)."""
    return {
        "metadata": {"name": name, "creationTimestamp": created,
                     "labels": {"batch.kubernetes.io/job-name": job, "job-name": job}},
        "spec": {"nodeName": "gpu-node-1"},
        "status": {"phase": phase, "startTime": created, "containerStatuses": [{
            "name": "main", "restartCount": restarts, "image": "registry.example/rtmdet:3.3",
            "imageID": "registry.example/rtmdet@sha256:" + "ab" * 32,
            "state": {"terminated": {"startedAt": started, "finishedAt": finished, "exitCode": code}}}]},
    }


def pod_list(job: str, outcome: str):
    """The Job's pods once it ran: one that succeeded, or two attempts that failed."""
    if outcome == "Complete":
        items = [pod(job, f"{job}-abcde", "Succeeded", "2026-12-02T08:00:00Z", "2026-12-02T08:00:07Z",
                     "2026-12-02T08:03:07Z", 0, 0)]
    elif outcome == "Failed":
        items = [pod(job, f"{job}-aaaaa", "Failed", "2026-12-02T08:00:00Z", "2026-12-02T08:00:03Z",
                     "2026-12-02T08:00:13Z", 1, 0),
                 pod(job, f"{job}-bbbbb", "Failed", "2026-12-02T08:00:20Z", "2026-12-02T08:00:22Z",
                     "2026-12-02T08:00:40Z", 137, 1)]
    else:
        items = []
    return {"apiVersion": "v1", "kind": "List", "items": items}


call = verb_args()
verb = call[0]
if verb == "apply":
    if "-k" in call:
        apply_kustomization(call[call.index("-k") + 1], call[call.index("-l") + 1])
    else:
        manifest = call[call.index("-f") + 1]
        if not Path(manifest).is_file():
            sys.exit(f"error: the path {manifest} does not exist")
        print(f"applied {Path(manifest).name}")
    state_file.write_text(os.environ.get("FAKE_JOB_OUTCOME", "Complete"))
elif verb == "delete":
    state_file.write_text("absent")
elif verb == "get" and call[1] == "job":
    if state == "absent":
        sys.exit(0 if "--ignore-not-found" in call else 1)
    output = call[call.index("-o") + 1]
    if output == "name":
        print(f"job.batch/{call[2]}")
    elif f'=="{state}"' in output:
        print("True", end="")
elif verb == "get" and call[1] == "deployment":
    # `get deployment NAME -o jsonpath={.status.readyReplicas}` (mlc status):
    # $FAKE_READY_DEPLOYMENT names the one that has a ready replica.
    if call[2] != os.environ.get("FAKE_READY_DEPLOYMENT"):
        sys.exit(f'Error from server (NotFound): deployments.apps "{call[2]}" not found')
    print("1", end="")
elif verb == "get" and call[1].startswith("deployment/"):
    # $FAKE_DEPLOYMENT: "running" when an earlier run deployed it, else absent
    if os.environ.get("FAKE_DEPLOYMENT") == "running":
        print(f"deployment.apps/{call[1].split('/', 1)[1]}")
elif verb == "get" and call[1] == "pods" and call[call.index("-o") + 1] == "json":
    print(json.dumps(pod_list(call[call.index("-l") + 1].split("=", 1)[1], state)))
elif verb == "get" and call[1] == "pods":
    print("pod/train-0-abcde")
elif verb == "get" and call[1] == "persistentvolumeclaim":
    # $FAKE_CLAIM: "missing" when the work volume is gone, else present
    if os.environ.get("FAKE_CLAIM") != "missing":
        print(f"persistentvolumeclaim/{call[2]}")
elif verb == "get" and call[1] == "namespace":
    namespace = os.environ.get("FAKE_NAMESPACE", "present")
    if namespace == "missing":
        sys.exit(f'Error from server (NotFound): namespaces "{call[2]}" not found')
    if namespace == "forbidden":
        sys.exit(f'Error from server (Forbidden): namespaces "{call[2]}" is forbidden')
    print(f"namespace/{call[2]}")
elif verb == "wait":
    sys.exit(0 if state == "Complete" else 1)
elif verb == "logs" and call[1].startswith("job/") and "-check-" in call[1]:
    check_site = log.with_suffix(".check")
    tree = os.environ.get("FAKE_WORK_TREE")
    if check_site.exists() and tree:
        [manifest] = Path(check_site.read_text()).glob("*-check-job.yaml")
        # This interpreter runs without site-packages (-S): a child reads the YAML.
        read = ("import json, sys, yaml; job = yaml.safe_load(open(sys.argv[1]));"
                "print(json.dumps(job['spec']['template']['spec']['containers'][0]['command']))")
        command = json.loads(subprocess.run([sys.executable, "-c", read, str(manifest)], check=True,
                                            capture_output=True, text=True).stdout)
        # The kubelet turns `$$` into `$`; the work volume is mounted at /work.
        argv = [tree if arg == "/work" else arg.replace("$$", "$") for arg in command]
        print(subprocess.run(argv, capture_output=True, text=True, check=True).stdout, end="")
elif verb == "logs":
    print("Traceback: CUDA out of memory")
