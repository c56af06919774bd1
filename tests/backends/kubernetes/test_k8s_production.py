"""Issue 15: pods a production cluster admits (Pod Security "restricted" by
default, "baseline" on request), the platform team's pod options, and pods
that behave (shared memory, probes, Job clean-up and failure policy)."""

from __future__ import annotations

import k8s_builders
from conftest import manifests

from compiler import ir
from compiler.backends.kubernetes import emit_site
from tests.backends.kubernetes.kubelet import expand


def pod_specs(files: dict[str, str]) -> dict[str, dict]:
    return {
        path: obj["spec"]["template"]["spec"]
        for path, obj in manifests(files).items()
        if obj["kind"] in ("Job", "Deployment")
    }


def test_every_pod_is_restricted_by_default(emitted):
    for files in emitted.values():
        for path, pod in pod_specs(files).items():
            assert pod["securityContext"] == {
                "fsGroup": 10001, "runAsGroup": 10001, "runAsNonRoot": True, "runAsUser": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            }, path
            assert pod["automountServiceAccountToken"] is False, path
            for container in pod["containers"]:
                assert container["securityContext"] == {
                    "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}
                }, path
                assert {"mountPath": "/tmp", "name": "tmp"} in container["volumeMounts"], path
            assert {"emptyDir": {}, "name": "tmp"} in pod["volumes"], path


def test_baseline_keeps_the_images_user_and_capabilities():
    cloud = k8s_builders.cloud_site(pod_security="baseline")
    for path, pod in pod_specs(emit_site(*k8s_builders.rtmdet(cloud=cloud), "cloud")).items():
        assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}, path
        for container in pod["containers"]:
            assert container["securityContext"] == {"allowPrivilegeEscalation": False}, path
            assert all(env["name"] != "HOME" for env in container["env"]), path


def test_gpu_pods_get_memory_backed_shared_memory(rtmdet_files, emitted):
    pods = pod_specs(rtmdet_files)
    gpu = pods["k8s/cloud/rtmdet-train-job.yaml"]
    assert {"emptyDir": {"medium": "Memory"}, "name": "dshm"} in gpu["volumes"]
    assert {"mountPath": "/dev/shm", "name": "dshm"} in gpu["containers"][0]["volumeMounts"]
    # No GPU: the in-cluster copies (and, with data_path = "exec", the data mover).
    mover = pod_specs(emitted["rtmdet-split-own-volume"])["k8s/cloud/rtmdet-data-mover-deployment.yaml"]
    copies = [pod for path, pod in pods.items() if "-push-" in path or "-fetch-" in path]
    assert copies
    for pod in [mover, *copies]:
        assert all(v["name"] != "dshm" for v in pod["volumes"])


def test_services_have_startup_and_liveness_probes_beside_readiness(rtmdet_objects):
    container = rtmdet_objects["k8s/cloud/rtmdet-detector-deployment.yaml"]["spec"]["template"]["spec"]["containers"][0]
    check = {"httpGet": {"path": "/healthz", "port": 8080}}
    assert container["readinessProbe"] == check
    # Startup may take the Deployment's whole progress deadline (1800 s).
    assert container["startupProbe"] == check | {"periodSeconds": 10, "failureThreshold": 180}
    assert container["livenessProbe"] == check | {"periodSeconds": 10, "failureThreshold": 12}


def test_jobs_are_cleaned_up_and_do_not_retry_hopeless_or_disrupted_pods(emitted):
    for files in emitted.values():
        for path, obj in manifests(files).items():
            if obj["kind"] != "Job":
                continue
            spec = obj["spec"]
            assert spec["ttlSecondsAfterFinished"] == 86400, path
            if obj["metadata"]["labels"]["app.kubernetes.io/component"] != "stage":
                continue  # a fetch Job: any failure is worth its retries
            ignore, fail = spec["podFailurePolicy"]["rules"]
            assert ignore == {"action": "Ignore", "onPodConditions": [{"status": "True", "type": "DisruptionTarget"}]}
            assert fail["onExitCodes"] == {"containerName": "main", "operator": "In", "values": [127]}
            # A sweep's Indexed Job fails only the index (a multi-node gang fails whole).
            assert fail["action"] == ("FailIndex" if "backoffLimitPerIndex" in spec else "FailJob"), path


def test_the_user_command_is_execed_so_it_receives_sigterm(rtmdet_objects):
    script = expand(rtmdet_objects["k8s/cloud/rtmdet-train-job.yaml"]["spec"]["template"]["spec"]["containers"][0]["args"][0])
    assert script.rstrip().endswith('exec bash -eo pipefail -c "$command"')


def test_site_pod_options_reach_every_object_and_a_pool_overrides_them():
    site_options = ir.PodOptions(
        service_account="mlc-runner", priority_class="batch", runtime_class="runc",
        labels={"team": "vision", "app.kubernetes.io/name": "not-mlcs"},
        annotations={"kueue.x-k8s.io/queue-name": "team-a"},
    )
    cloud = k8s_builders.cloud_site(pod=site_options, storage_class="nfs-rwx", access_mode="ReadWriteOnce")
    gpu = cloud.pools[0].model_copy(update={"pod": ir.PodOptions(runtime_class="nvidia", labels={"team": "gpu"})})
    cloud = cloud.model_copy(update={"pools": [gpu, cloud.pools[1]], "kubernetes": cloud.kubernetes.model_copy(
        update={"volume": None, "staging": None, "data_path": "exec"})})
    files = emit_site(*k8s_builders.rtmdet(cloud=cloud, train_on="split"), "cloud")
    objects = manifests(files)
    train_gpu = next(o for p, o in objects.items() if "train" in p and o["spec"]["template"]["spec"].get(
        "nodeSelector") == {"pool": "gpu"})
    pod = train_gpu["spec"]["template"]["spec"]
    assert (pod["serviceAccountName"], pod["priorityClassName"], pod["runtimeClassName"]) == (
        "mlc-runner", "batch", "nvidia")
    assert "automountServiceAccountToken" not in pod  # the named identity may need its token
    for meta in (train_gpu["metadata"], train_gpu["spec"]["template"]["metadata"]):
        assert meta["labels"]["team"] == "gpu"
        assert meta["labels"]["app.kubernetes.io/name"] == "train"  # mlc's own labels win
        assert meta["annotations"] == {"kueue.x-k8s.io/queue-name": "team-a"}
    mover = objects["k8s/cloud/rtmdet-data-mover-deployment.yaml"]["spec"]["template"]["spec"]
    assert mover["runtimeClassName"] == "runc"  # no pool: the site's options
    claim = objects["k8s/cloud/rtmdet-work-pvc.yaml"]["spec"]
    assert claim["storageClassName"] == "nfs-rwx" and claim["accessModes"] == ["ReadWriteOnce"]


def test_a_bad_label_or_class_name_is_reported_at_its_pool():
    import pytest

    from compiler.backends.errors import BackendError

    for bad in (ir.PodOptions(labels={"team": "has space"}), ir.PodOptions(annotations={"/x": "v"}),
                ir.PodOptions(priority_class="High_Priority")):
        cloud = k8s_builders.cloud_site()
        gpu = cloud.pools[0].model_copy(update={"pod": bad})
        cloud = cloud.model_copy(update={"pools": [gpu, cloud.pools[1]]})
        with pytest.raises(BackendError) as caught:
            emit_site(*k8s_builders.rtmdet(cloud=cloud), "cloud")
        assert caught.value.span == gpu.span


def test_a_fetch_job_copies_from_object_storage_with_rclone_resumably(emitted):
    from compiler.backends.kubernetes.fetch import rclone_command

    objects = manifests(emitted["rtmdet-fetch"])
    [job] = [o for p, o in objects.items() if "fetch" in p and "coco" in p]
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "docker.io/rclone/rclone:1.68"  # the site's transfer_image
    # No shell: rclone is PID 1; `copy` skips what a failed attempt already wrote.
    assert container["command"][:4] == ["rclone", "copy", ":s3:datasets/coco2017", "/work/datasets/coco"]
    assert {"mountPath": "/work", "name": "work", "subPathExpr": "rtmdet/$(MLC_RUN)"} in container["volumeMounts"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "transfer"
    transfer = ir.Transfer(id="t", source_site="a", target_site="b", what=ir.DatasetRef(dataset="d"),
                           path="gs://bucket/model.pt", target_path="models/model.pt",
                           route=ir.Route(kind="direct-pull", runs_on="b"))
    assert rclone_command(transfer)[:5] == ["rclone", "copyto", ":gcs:bucket/model.pt", "/work/models/model.pt",
                                            "--gcs-env-auth"]


SOURCE = """experiment prod {}
site k : kubernetes {
  namespace = "ml"
  pod_security = "baseline"
  own_namespace = true
  storage_class = "nfs"
  access_mode = "ReadWriteOnce"
  service_account = "mlc-runner"
  labels = {"team": "vision"}
  annotations = {"kueue.x-k8s.io/queue-name": "team-a"}
  pool gpu { nodes = 1; cpus = 8; memory = 32GiB; priority_class = "high"; labels = {"team": "gpu"} }
}
stage train { run = "python train.py"; cpus = 2; memory = 4GiB; time = 1h }
"""


def test_the_language_takes_the_site_and_pool_fields_and_only_kubernetes_pools_do(tmp_path):
    from compiler import frontend

    path = tmp_path / "prod.mlx"
    path.write_text(SOURCE)
    experiment, diagnostics, _ = frontend.load(str(path), {})
    assert experiment is not None, [d.message for d in diagnostics.items]
    settings = experiment.site("k").kubernetes
    assert (settings.pod_security, settings.own_namespace, settings.storage_class, settings.access_mode) == (
        "baseline", True, "nfs", "ReadWriteOnce")
    assert settings.pod == ir.PodOptions(service_account="mlc-runner", labels={"team": "vision"},
                                         annotations={"kueue.x-k8s.io/queue-name": "team-a"})
    assert experiment.pool("k.gpu").pod == ir.PodOptions(priority_class="high", labels={"team": "gpu"})
    slurm = SOURCE.replace("site k : kubernetes {", "site k : slurm {").replace("pool gpu", "partition gpu")
    slurm = "\n".join(line for line in slurm.splitlines() if "=" not in line or "partition" in line
                      or line.startswith(("experiment", "stage")))
    path.write_text(slurm)
    experiment, diagnostics, _ = frontend.load(str(path), {})
    assert experiment is None
    assert any("unknown field `priority_class`" in d.message for d in diagnostics.items)
