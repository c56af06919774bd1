"""What a run left behind in the output folder, read back: completion flags,
job records, logs, and the generated scripts that stop what was started.

The generated workflow writes, per Snakemake rule:
  .mlc/done/<rule>   when the unit finished (the rule's output);
  .mlc/steps/<rule>  `started`, or `failed` when its command failed
                     (read by progress.StepWatcher);
  .mlc/jobs/<rule>   when a batch job was submitted: `key=value` lines
                     (kind=slurm, site=..., id=..., login=...);
  .mlc/logs/<rule>.log   the rule's log.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml



@dataclass(frozen=True)
class Rule:
    name: str
    description: str  # "train[lr=0.01] on the Slurm site charisma", from the Snakefile


_RULE = re.compile(r"^# (.+)\nrule (\w+):$", re.MULTILINE)


def rules(outdir: Path) -> list[Rule]:
    """The workflow's rules with the comment the generator put above each;
    reading them back keeps the runner true to whatever the Snakefile says."""
    try:
        text = (outdir / "Snakefile").read_text(encoding="utf-8")
    except OSError:
        return []
    return [Rule(m.group(2), m.group(1)) for m in _RULE.finditer(text) if m.group(2) != "all"]


def done(outdir: Path, rule: str) -> bool:
    return (outdir / ".mlc" / "done" / rule).exists()


def job_record(outdir: Path, rule: str) -> dict[str, str]:
    path = outdir / ".mlc" / "jobs" / rule
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    record = {}
    for line in text.splitlines():
        key, eq, value = line.partition("=")
        if eq:
            record[key.strip()] = value.strip()
    return record


def log_tail(outdir: Path, rule: str, lines: int = 25) -> list[str]:
    path = outdir / ".mlc" / "logs" / f"{rule}.log"
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def site_config(outdir: Path) -> dict:
    try:
        return yaml.safe_load((outdir / "config.yaml").read_text(encoding="utf-8")).get("sites", {})
    except (OSError, AttributeError, yaml.YAMLError):
        return {}


def stop_watching(outdir: Path, rule: str) -> None:
    """Marks the rule's job record as no longer wanted: the next run submits
    afresh instead of reattaching to a job that was cancelled (the submit
    script writes the same line when it stops watching)."""
    path = outdir / ".mlc" / "jobs" / rule
    if "watched" not in job_record(outdir, rule):
        with open(path, "a", encoding="utf-8") as record:
            record.write("watched=ended\n")


def cancel_slurm_job(record: dict[str, str]) -> str:
    """scancel a recorded job (through ssh when it was submitted through a
    login host). Returns what was done, for the user."""
    job = record.get("id", "")
    if not job.isdigit():
        return "no job id recorded"
    command = ["scancel", job]
    login = record.get("login", "")
    if login:
        command = ["ssh", "-o", "BatchMode=yes", "--", login, shlex.join(command)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        return f"scancel {job} failed: {result.stderr.strip()}"
    return f"cancelled Slurm job {job}"


def run_script(outdir: Path, script: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", script, *args], cwd=outdir, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def answers(url: str) -> bool:
    """Whether an HTTP endpoint answers (a service's health check)."""
    import urllib.request

    try:
        urllib.request.urlopen(url, timeout=1).close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False


def connects(host: str, port: int) -> bool:
    """Whether a port accepts a connection (a service checked over TCP)."""
    import socket

    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def deployment_ready(name: str, context: str, namespace: str, replicas: int) -> bool | None:
    """Whether a Kubernetes Deployment has all its replicas ready; None when
    kubectl is missing or cannot tell (no cluster, no such object)."""
    import shutil

    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    command = [kubectl, *(["--context", context] if context else []), "--namespace", namespace,
               "get", "deployment", name, "--output", "jsonpath={.status.readyReplicas}"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return int(result.stdout.strip() or 0) >= replicas


def read_on_cluster(login: str, root: str, path: str) -> str | None:
    """A small file under a Slurm work root (relative: to the home directory
    there), through ssh when the site has a login host; None when it is not
    there or the cluster cannot be asked."""
    if login:
        command = ["ssh", "-o", "BatchMode=yes", "--", login, shlex.join(["cat", "--", f"{root}/{path}"])]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout if result.returncode == 0 else None
    here = Path(root) if root.startswith("/") else Path.home() / root
    try:
        return (here / path).read_text(encoding="utf-8")
    except OSError:
        return None
