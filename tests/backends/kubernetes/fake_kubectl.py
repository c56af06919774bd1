"""A stand-in for kubectl in the run-script tests: it logs every call (one
JSON list per line) to $FAKE_KUBECTL_LOG and plays a Job whose outcome is
$FAKE_JOB_OUTCOME (Complete or Failed) once applied. $FAKE_JOB_BEFORE is the
Job's state before the script runs (absent, Complete or Failed);
$FAKE_NAMESPACE says how looking up the namespace goes (present, missing or
forbidden)."""

import json
import os
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
        elif arg in ("--context", "-n"):
            skip = True
        else:
            rest.append(arg)
    return rest


call = verb_args()
verb = call[0]
if verb == "apply":
    manifest = call[call.index("-f") + 1]
    if not Path(manifest).is_file():
        sys.exit(f"error: the path {manifest} does not exist")
    state_file.write_text(os.environ.get("FAKE_JOB_OUTCOME", "Complete"))
    print(f"applied {Path(manifest).name}")
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
elif verb == "get" and call[1].startswith("deployment/"):
    # $FAKE_DEPLOYMENT: "running" when an earlier run deployed it, else absent
    if os.environ.get("FAKE_DEPLOYMENT") == "running":
        print(f"deployment.apps/{call[1].split('/', 1)[1]}")
elif verb == "get" and call[1] == "pods":
    print("pod/train-0-abcde")
elif verb == "get" and call[1] == "namespace":
    namespace = os.environ.get("FAKE_NAMESPACE", "present")
    if namespace == "missing":
        sys.exit(f'Error from server (NotFound): namespaces "{call[2]}" not found')
    if namespace == "forbidden":
        sys.exit(f'Error from server (Forbidden): namespaces "{call[2]}" is forbidden')
    print(f"namespace/{call[2]}")
elif verb == "wait":
    sys.exit(0 if state == "Complete" else 1)
elif verb == "logs":
    print("Traceback: CUDA out of memory")
