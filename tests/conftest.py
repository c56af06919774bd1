"""Shared test helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The real Slurm cluster of .ci/slurm-up, for every test folder that needs it.
from tests.slurm.cluster import slurm_accounting, slurm_cluster, slurm_workdir, two_slurm_nodes  # noqa: F401  (fixtures)
# The real OpenSSH server of .ci/sshd-up.
from tests.ssh.host import ssh_host, ssh_server  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent


def update_golden() -> bool:
    """MLC_UPDATE_GOLDEN=1 rewrites golden files instead of comparing."""
    return os.environ.get("MLC_UPDATE_GOLDEN") == "1"


@pytest.fixture
def in_root(monkeypatch):
    """Run with the repository root as the working directory, so that paths
    in diagnostics and generated files are the short relative ones."""
    monkeypatch.chdir(ROOT)
    return ROOT
