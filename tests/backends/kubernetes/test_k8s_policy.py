"""An independent policy checker over every generated manifest: checkov
(installed in a virtualenv of its own by .ci/install-checkov) runs over
`kubectl kustomize` of every Kubernetes site folder in out/ and in the test
goldens, and over a site with `pod_security = baseline`.

Zero failures of the checks that make up Pod Security "restricted" by
default, zero of "baseline" ones with `pod_security = baseline`; any other
failing check must be one docs/kubernetes.md lists with its reason."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import k8s_builders
import pytest

from compiler.backends.kubernetes import emit_site

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).parent / "golden"
DOCS = ROOT / "docs" / "kubernetes.md"


def _checkov() -> str | None:
    for candidate in (os.environ.get("MLC_CHECKOV"), shutil.which("checkov"), "/opt/mlc-checkov/bin/checkov"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


CHECKOV = _checkov()
KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(
    CHECKOV is None or KUBECTL is None, reason="needs checkov (.ci/install-checkov) and kubectl (its kustomize)"
)

# checkov's checks of what Pod Security "baseline" forbids: privileged,
# host namespaces, host ports, host paths (the docker socket), added
# capabilities, CAP_SYS_ADMIN.
BASELINE = {"CKV_K8S_16", "CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19", "CKV_K8S_25", "CKV_K8S_26", "CKV_K8S_27",
            "CKV_K8S_39"}
# ... and what "restricted" adds: no privilege escalation, non-root, NET_RAW
# and all other capabilities dropped, the RuntimeDefault seccomp profile.
RESTRICTED = BASELINE | {"CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_28", "CKV_K8S_37", "CKV_K8S_31"}


def site_folders() -> list[Path]:
    folders = sorted((ROOT / "out").glob("*/k8s/*")) + sorted(GOLDEN.glob("*/k8s/*"))
    return [folder for folder in folders if (folder / "kustomization.yaml").is_file()]


def _write(files: dict[str, str], root: Path) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root / "k8s" / "cloud"


def failures(folders: dict[str, Path], scratch: Path) -> dict[str, set[str]]:
    """Built name -> the ids of the checks that failed on it (one checkov run)."""
    built = scratch / "built"
    built.mkdir()
    for name, folder in folders.items():
        text = subprocess.run([KUBECTL, "kustomize", str(folder)], capture_output=True, text=True, check=True).stdout
        (built / f"{name}.yaml").write_text(text)
    result = subprocess.run(
        [CHECKOV, "-d", str(built), "--framework", "kubernetes", "-o", "json", "--quiet", "--skip-download"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: some check failed
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    reports = report if isinstance(report, list) else [report]
    found: dict[str, set[str]] = {name: set() for name in folders}
    for part in reports:
        for check in part.get("results", {}).get("failed_checks", []):
            found[Path(check["file_path"]).stem].add(check["check_id"])
    return found


def documented_exceptions() -> set[str]:
    """The checks docs/kubernetes.md says are left failing, with reasons."""
    text = DOCS.read_text()
    section = text[text.index("### Checks left failing") :]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    return set(re.findall(r"`(CKV2?_K8S_\d+)`", section))


def test_every_generated_pod_passes_restricted_and_other_failures_are_documented(tmp_path: Path):
    folders = {"-".join(folder.relative_to(ROOT).parts): folder for folder in site_folders()}
    assert len(folders) >= 3, folders  # out/rtmdet and both goldens at least
    found = failures(folders, tmp_path)
    allowed = documented_exceptions()
    assert allowed and not allowed & RESTRICTED
    for name, ids in found.items():
        assert not ids & RESTRICTED, f"{name}: Pod Security restricted checks failed: {sorted(ids & RESTRICTED)}"
        assert ids <= allowed, f"{name}: checks failing without a reason in docs/kubernetes.md: {sorted(ids - allowed)}"


def test_baseline_sites_pass_baseline_and_the_checker_sees_what_they_give_up(tmp_path: Path):
    """With pod_security = baseline the pods may run as root: the restricted
    checks that needs fail (so the checker does look), the baseline ones pass."""
    cloud = k8s_builders.cloud_site(pod_security="baseline")
    folder = _write(emit_site(*k8s_builders.rtmdet(cloud=cloud), "cloud"), tmp_path / "site")
    found = failures({"baseline": folder}, tmp_path)["baseline"]
    assert not found & BASELINE, sorted(found & BASELINE)
    assert {"CKV_K8S_23", "CKV_K8S_37"} <= found
