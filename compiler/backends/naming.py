"""Names of generated objects, shared by every back end so that the Snakefile
waits for exactly the Job the manifests create and the sbatch script the
Slurm back end writes."""

from __future__ import annotations

import hashlib
import re

_DNS_MAX = 63


def dns1123(name: str, max_length: int = _DNS_MAX) -> str:
    """A DNS-1123 label: lower case, digits and '-', starting and ending
    alphanumeric, at most 63 characters. Distinct inputs that fold to the same
    text (`train[lr=0.01]`, `train[lr=0-01]`) stay distinct through a short
    hash suffix whenever anything had to be changed."""
    folded = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "x"
    if folded == name and len(folded) <= max_length:
        return folded
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:6]
    head = folded[: max_length - len(digest) - 1].rstrip("-") or "x"
    return f"{head}-{digest}"


def file_stem(unit: str) -> str:
    """A file name for a stage instance or service: readable and unique."""
    stem = re.sub(r"[^A-Za-z0-9_.=-]+", "_", unit).strip("_.") or "unit"
    if stem == unit:
        return stem
    digest = hashlib.sha256(unit.encode("utf-8")).hexdigest()[:6]
    return f"{stem[:80]}-{digest}"


# Kubernetes object names leave room for the run scripts' "-<run>" suffix
# (kubernetes/run_identity.py: at most 12 characters and the dash), so that a
# Job's name still fits the 63 characters of its pods' job-name label.
K8S_NAME_MAX = 50


def k8s_job_name(experiment: str, stage: str, reserve: int = 0) -> str:
    """`reserve`: characters the Job's pods add to its name in their host names."""
    return dns1123(f"{experiment}-{stage}", K8S_NAME_MAX - reserve)


def k8s_service_name(experiment: str, service: str) -> str:
    return dns1123(f"{experiment}-{service}", K8S_NAME_MAX)


def snake_rule(unit: str) -> str:
    """A Snakemake rule name (a Python identifier)."""
    ident = re.sub(r"[^A-Za-z0-9_]+", "_", unit).strip("_") or "unit"
    if ident[0].isdigit():
        ident = "u_" + ident
    if ident == unit:
        return ident
    digest = hashlib.sha256(unit.encode("utf-8")).hexdigest()[:6]
    return f"{ident[:80]}_{digest}"


def k8s_data_mover(experiment: str) -> str:
    """The Deployment that keeps the work volume mounted so that transfers can
    `kubectl exec` into it (tar in and out)."""
    return dns1123(f"{experiment}-data-mover", K8S_NAME_MAX)


def k8s_work_claim(experiment: str) -> str:
    """The PersistentVolumeClaim mlc creates when a site names no volume."""
    return dns1123(f"{experiment}-work", K8S_NAME_MAX)
