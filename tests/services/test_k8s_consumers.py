"""A service on a Kubernetes site with one consumer on the same site
(cluster DNS) and one on another site (the site's declared exposure: an
Ingress is generated): the generated folder byte for byte against
tests/services/golden/k8s_consumers/ (MLC_UPDATE_GOLDEN=1 to accept a
change, then read the diff), every manifest valid under strict schema
validation, and every consumer script waiting for readiness."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from kubernetes_validate import validate
from kubernetes_validate.utils import all_versions
from packaging.version import Version

from compiler.backends import emit
from compiler.diagnostics import render_text
from compiler.frontend import load
from compiler.placement import place
from tests.backends.kubernetes.kubelet import expand

GOLDEN = Path(__file__).parent / "golden" / "k8s_consumers"
VERSIONS = sorted({v for v in all_versions() if Version(v) >= Version("1.29")}, key=Version)
_PICTURES = {"gantt.svg", "graph.svg", "graph.mmd"}

SOURCE = """
experiment shop { description = "a detector on Kubernetes, tested from both sites" }
site cloud : kubernetes {
  context = "ctx"; namespace = "ml"; volume = "work"; expose = "apps.example.org"
  pool cpu { nodes = 2; cpus = 8; memory = 32GiB; price = 0.2/h }
}
site ws : local { cpus = 4; memory = 8GiB }
service detector {
  image = "registry.example.org/detector:1"
  port = 8080
  health = "/healthz"
  on = cloud
}
stage near {
  in api = detector
  out report = file("near.json")
  estimate = 5m
  on = cloud
  run = "python3 probe.py ${in.api} > ${out.report}"
}
stage far {
  in api = detector
  out report = file("far.json")
  estimate = 5m
  on = ws
  run = "python3 probe.py ${in.api} > ${out.report}"
}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("k8s") / "shop.mlx"
    path.write_text(textwrap.dedent(SOURCE))
    experiment, diags, sources = load(str(path))
    assert experiment is not None, render_text(diags.sorted(), sources)
    return {p: t for p, t in emit(experiment, place(experiment)).items() if p not in _PICTURES}


def test_the_folder_matches_the_golden(files):
    if os.environ.get("MLC_UPDATE_GOLDEN") == "1":
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for path, text in files.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_text(text, encoding="utf-8")
    expected = {str(p.relative_to(GOLDEN)): p.read_text(encoding="utf-8")
                for p in sorted(GOLDEN.rglob("*")) if p.is_file()}
    assert sorted(files) == sorted(expected), "files added or removed (MLC_UPDATE_GOLDEN=1 to accept)"
    for path in sorted(files):
        assert files[path] == expected[path], f"{path} differs (MLC_UPDATE_GOLDEN=1 to accept)"


def test_every_manifest_validates_strictly_on_the_oldest_and_newest_version(files):
    objects = [yaml.safe_load(text) for path, text in files.items()
               if path.startswith("k8s/") and path.endswith(".yaml") and not path.endswith("kustomization.yaml")]
    assert any(o["kind"] == "Ingress" for o in objects)
    for obj in objects:
        for version in (VERSIONS[0], VERSIONS[-1]):
            validate(obj, version, strict=True)


def test_the_same_site_consumer_uses_cluster_dns_and_the_other_the_exposure(files):
    near = expand(files["k8s/cloud/shop-near-job.yaml"])  # the pod script as the kubelet hands it on
    # The Service's applied name carries the run (MLC_RUN in the pod), in the
    # namespace the pod was applied to (MLC_NAMESPACE), not the compiled one.
    assert ('MLC_IN_api=$(bash -c "$mlc_ready" mlc_ready http://shop-detector-"${MLC_RUN:?}"."${MLC_NAMESPACE:?}"'
            ".svc:8080 '' /healthz)") in near
    far = files["local/ws/far.sh"]
    assert 'mlc_ready http://shop-detector-"$(run=' in far and ".apps.example.org '' /healthz)" in far
    ingress = yaml.safe_load(files["k8s/cloud/shop-detector-ingress.yaml"])
    assert ingress["spec"]["rules"][0]["host"] == "shop-detector.apps.example.org"  # the run's name goes in when applied
    # Applied with the Deployment and Service: one instance label selects all three.
    assert ingress["metadata"]["labels"]["app.kubernetes.io/instance"] == "shop-detector"
    assert "apply_run app.kubernetes.io/instance=shop-detector " in files["k8s/cloud/run-detector.sh"]


FAKE_KUBECTL = Path(__file__).parents[1] / "backends" / "kubernetes" / "fake_kubectl.py"
REAL_KUBECTL = shutil.which("kubectl")


@pytest.fixture
def folder(files, tmp_path) -> Path:
    """The folder written out, with the stand-in kubectl in bin/ (which
    builds what is applied with the real kubectl's kustomize)."""
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "kubectl").write_text(f"#!{sys.executable} -SE\n" + FAKE_KUBECTL.read_text())
    (tmp_path / "bin" / "kubectl").chmod(0o755)
    return tmp_path


def _env(folder: Path, **extra: str) -> dict[str, str]:
    return {"PATH": f"{folder / 'bin'}{os.pathsep}{os.environ['PATH']}", "HOME": str(folder),
            "FAKE_KUBECTL_LOG": str(folder / "kubectl.log"), "FAKE_REAL_KUBECTL": REAL_KUBECTL or "",
            "USER": "Alice.Smith", **extra}


def _far_url(folder: Path, **env: str) -> str:
    """The URL the consumer on the other site waits for, as its script works it out."""
    script = (folder / "local/ws/far.sh").read_text()
    call = next(line for line in script.splitlines() if line.startswith("MLC_IN_api=$("))
    url_word = call.removeprefix('MLC_IN_api=$(bash -c "$mlc_ready" mlc_ready ').removesuffix(" '' /healthz)")
    result = subprocess.run(["bash", "-c", f"printf %s {url_word}"], env=_env(folder, **env),
                            capture_output=True, text=True, check=True)
    return result.stdout


@pytest.mark.skipif(REAL_KUBECTL is None, reason="kubectl (its kustomize) is not installed")
@pytest.mark.parametrize("run", [{"MLC_RUN": "Nightly.3"}, {}])
def test_the_ingress_host_names_the_run_and_the_far_consumer_calls_that_host(folder, run):
    result = subprocess.run(["bash", "k8s/cloud/run-detector.sh"], cwd=folder, capture_output=True, text=True,
                            env=_env(folder, KUBE_NAMESPACE="other", **run), timeout=60)
    assert result.returncode == 0, result.stderr
    built = [d for d in yaml.safe_load_all((folder / "kubectl.built").read_text()) if d]
    suffix = "nightly-3" if run else "alice-smith"  # MLC_RUN, else the user, folded
    ingress = next(d for d in built if d["kind"] == "Ingress")
    assert ingress["metadata"]["name"] == f"shop-detector-{suffix}"
    assert ingress["spec"]["rules"][0]["host"] == f"shop-detector-{suffix}.apps.example.org"
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == f"shop-detector-{suffix}"
    # Two runs in one namespace: two hosts; the consumer elsewhere calls its own run's.
    assert _far_url(folder, **run) == f"http://shop-detector-{suffix}.apps.example.org"


@pytest.mark.skipif(REAL_KUBECTL is None, reason="kubectl (its kustomize) is not installed")
def test_config_yaml_s_run_reaches_the_consumer_on_the_workflow_machine(files, folder):
    """`run: Cfg_1` in config.yaml: the Snakefile gives it to the service's
    scripts and to the local consumer (KUBE_RUN), which calls that run's host."""
    far = files["Snakefile"][files["Snakefile"].index("rule far:"):files["Snakefile"].index("rule near:")]
    assert 'kube_run=lambda wildcards: config["sites"]["cloud"]["run"],' in far
    assert "KUBE_RUN={params.kube_run:q} bash {input.script:q}" in far
    result = subprocess.run(["bash", "k8s/cloud/run-detector.sh"], cwd=folder, capture_output=True, text=True,
                            env=_env(folder, KUBE_RUN="Cfg_1"), timeout=60)
    assert result.returncode == 0, result.stderr
    ingress = next(d for d in yaml.safe_load_all((folder / "kubectl.built").read_text()) if d and d["kind"] == "Ingress")
    assert ingress["spec"]["rules"][0]["host"] == "shop-detector-cfg-1.apps.example.org"
    assert _far_url(folder, KUBE_RUN="Cfg_1") == "http://shop-detector-cfg-1.apps.example.org"


def test_the_pod_calls_the_service_of_its_run_in_the_namespace_it_runs_in(files, tmp_path):
    """The Job's glue, run by /bin/sh as in the pod, with a `bash` that
    answers the wait with the URL it was given and runs the command."""
    near = yaml.safe_load(files["k8s/cloud/shop-near-job.yaml"])
    container = near["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"] if "valueFrom" in e}
    assert env == {"MLC_RUN": "metadata.labels['mlc.dev/run']", "MLC_NAMESPACE": "metadata.namespace"}
    (tmp_path / "bash").write_text('#!/bin/sh\nif [ "$3" = mlc_ready ]; then echo "$4"; exit; fi\n'
                                   'echo "command sees $MLC_IN_api"\n')
    (tmp_path / "bash").chmod(0o755)
    result = subprocess.run([*container["command"], expand(container["args"][0])], capture_output=True, text=True,
                            env={"PATH": f"{tmp_path}{os.pathsep}/usr/bin:/bin", "MLC_RUN": "nightly",
                                 "MLC_NAMESPACE": "team-b"}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "command sees http://shop-detector-nightly.team-b.svc:8080\n"


def test_status_names_the_service_object_of_this_run(files, folder, monkeypatch, capsys):
    from compiler import runner
    experiment = _experiment(folder)
    for key, value in _env(folder, FAKE_READY_DEPLOYMENT="shop-detector-nightly").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MLC_RUN", "Nightly")
    assert runner.status(experiment, folder, argparse.Namespace(format="text")) == runner.EXIT_OK
    assert "service detector: shop-detector-nightly.ml.svc:8080 (ready)" in capsys.readouterr().out
    monkeypatch.delenv("MLC_RUN")  # then config.yaml's run, else the user
    assert runner.status(experiment, folder, argparse.Namespace(format="text")) == runner.EXIT_OK
    assert "service detector: shop-detector-alice-smith.ml.svc:8080 on cloud (ask kubectl" in capsys.readouterr().out
    config = folder / "config.yaml"
    config.write_text(config.read_text().replace("    run: ''", "    run: Cfg_1"))
    assert runner.status(experiment, folder, argparse.Namespace(format="text")) == runner.EXIT_OK
    assert "service detector: shop-detector-cfg-1.ml.svc:8080 on cloud (ask kubectl" in capsys.readouterr().out


def _experiment(folder: Path):
    path = folder / "shop.mlx"
    path.write_text(textwrap.dedent(SOURCE))
    experiment, diags, sources = load(str(path))
    assert experiment is not None, render_text(diags.sorted(), sources)
    return experiment


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_scripts_are_shellcheck_clean(files):
    for path, text in files.items():
        if path.endswith(".sh"):
            result = subprocess.run(["shellcheck", "-s", "bash", "-"], input=text, capture_output=True, text=True)
            assert result.returncode == 0, f"{path}:\n{result.stdout}"


def test_the_workflow_removes_the_service_after_both_consumers(files):
    snakefile = files["Snakefile"]
    stop = snakefile[snakefile.index("rule stop_detector:"):]
    for flag in ('".mlc/done/detector"', '".mlc/done/far"', '".mlc/done/near"', "k8s/cloud/stop-shop-detector.sh"):
        assert flag in stop
    script = files["k8s/cloud/stop-shop-detector.sh"]
    # By labels: the applied names carry the run's suffix; only this run's objects go.
    assert ('delete deployments,services,ingresses -l app.kubernetes.io/instance=shop-detector,mlc.dev/run="$run" '
            "--ignore-not-found") in script


# `bash` for the pod test below: the wait program runs in the real bash, with
# the cluster-DNS URL (unresolvable here) swapped for this machine's server.
LOCAL_DNS_BASH = """#!/bin/sh
if [ "$3" = mlc_ready ]; then
  echo "$4" >"$CALLED_WITH"
  program=$2
  shift 3
  exec /bin/bash -c "$program" mlc_ready "http://127.0.0.1:$SERVER_PORT" "$2" "$3"
fi
exec /bin/bash "$@"
"""


@pytest.mark.parametrize("health_status", [200, 503])
def test_the_pod_glue_under_sh_waits_until_the_service_answers(files, tmp_path, health_status):
    """The glue is /bin/sh (dash here, as in Debian images): it runs the
    wait with bash, which passes once the health path answers 2xx and not
    before; then the command sees the URL."""
    from tests.services.test_service_inputs import _serve

    server = _serve(health_status)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "bash").write_text(LOCAL_DNS_BASH)
    (tmp_path / "bin" / "bash").chmod(0o755)
    (tmp_path / "probe.py").write_text("import sys, urllib.request\n"
                                       "print(urllib.request.urlopen(sys.argv[1] + '/ok').status)\n")
    container = yaml.safe_load(files["k8s/cloud/shop-near-job.yaml"])["spec"]["template"]["spec"]["containers"][0]
    try:
        result = subprocess.run(
            [*container["command"], expand(container["args"][0])], cwd=tmp_path, capture_output=True, text=True, timeout=60,
            env={"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}", "MLC_RUN": "nightly",
                 "MLC_NAMESPACE": "team-b", "MLC_READY_TIMEOUT": "3", "SERVER_PORT": str(server.server_port),
                 "CALLED_WITH": str(tmp_path / "called")})
    finally:
        server.shutdown()
    assert (tmp_path / "called").read_text() == "http://shop-detector-nightly.team-b.svc:8080\n"
    if health_status == 200:
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "near.json").read_text() == "200\n"
    else:
        assert result.returncode != 0 and "is not ready after 3s" in result.stderr
        assert not (tmp_path / "near.json").exists()


@pytest.mark.parametrize("given", ["Alice.Smith", "Élodie_Z", "--x--", "ABCDEFGHIJKLMNOP", "a1 b2", "日本"])
def test_status_works_the_run_out_as_the_scripts_do(given, monkeypatch):
    from compiler.backends.kubernetes.run_identity import RUN_ID_FUNCTION, RUN_ID_WORD, run_id

    monkeypatch.setenv("MLC_RUN", given)
    scripts = subprocess.run(["bash", "-c", "\n".join(RUN_ID_FUNCTION) + "\nrun_id ''"], capture_output=True,
                             text=True, check=True).stdout
    elsewhere = subprocess.run(["bash", "-c", f"printf %s {RUN_ID_WORD}"], capture_output=True, text=True,
                               check=True).stdout
    assert scripts == f"{run_id()}\n" and elsewhere == run_id()
