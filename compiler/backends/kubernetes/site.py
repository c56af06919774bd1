"""Every file of one Kubernetes site, keyed by its path in the output folder."""

from __future__ import annotations

import re

from compiler.backends.errors import BackendError
from compiler.backends.kubernetes import check, ingress, labels, multinode, objects, pod_policy, scripts
from compiler.backends.kubernetes.fetch import (
    Published,
    Shipped,
    fetch_job,
    is_fetch,
    site_fetches,
    site_publishes,
    site_pushes,
    site_ships,
)
from compiler.backends.kubernetes.serialise import dump_yaml, header, safe_yaml
from compiler.backends.kubernetes.workloads import (
    JobWorkload,
    ServiceWorkload,
    run_script_name,
    site_workloads,
)
from compiler.backends.naming import k8s_data_mover, k8s_work_claim
from compiler.ir import Experiment, Plan, Site

_GIB = 1024**3
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def site_dir(site_name: str) -> str:
    return f"k8s/{site_name}"


def claim_size(experiment: Experiment, plan: Plan, site_name: str) -> int:
    """Room for what the site's units write and what is staged in, rounded
    up to whole GiB (at least one)."""
    written = sum(
        output.size
        for a in plan.assignments
        if a.site == site_name and a.kind == "instance"
        for output in experiment.instance(a.unit).outputs
    )
    staged = sum(t.size for t in plan.transfers if t.target_site == site_name)
    return max(1, -(-(written + staged) // _GIB)) * _GIB


def _check_existing_names(site: Site) -> None:
    """Names of objects that must already exist in the cluster are used as
    written, so they must be valid Kubernetes names."""
    settings = site.kubernetes
    assert settings is not None
    if not _DNS_LABEL.fullmatch(settings.namespace):
        raise BackendError(f"namespace {settings.namespace!r} is not a valid Kubernetes namespace name", site.span)
    for what, name in [("volume", settings.volume), *(("image pull secret", s) for s in settings.image_pull_secrets)]:
        if name is not None and not _DNS_SUBDOMAIN.fullmatch(name):
            raise BackendError(f"{what} {name!r} is not a valid Kubernetes object name", site.span)
    if settings.storage_class is not None and not _DNS_SUBDOMAIN.fullmatch(settings.storage_class):
        raise BackendError(f"storage class {settings.storage_class!r} is not a valid Kubernetes object name", site.span)
    for options, span in [(settings.pod, site.span), *((pool.pod, pool.span) for pool in site.pools)]:
        pod_policy.check_options(options, span)


def _kustomization(site: Site, resources: list[str], configurations: list[str]) -> str:
    settings = site.kubernetes
    assert settings is not None
    document = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": settings.namespace,
        "resources": sorted(resources),
    }
    if configurations:
        document["configurations"] = configurations
    return header(site.span) + safe_yaml(document)


def needs_mover(experiment: Experiment, plan: Plan, site: Site) -> bool:
    """The data mover runs only where a transfer streams through `kubectl
    exec` (`data_path = "exec"`): a transfer into or out of the site that no
    Job of its own copies, or project code shipped there."""
    from compiler.backends import shipping  # imports the transfers, which import this package
    from compiler.sites.base import Access
    from compiler.sites import registry

    if Access.KUBECTL not in registry.of(site).site_reached_by(site):
        return False
    return site.name in shipping.needs(experiment, plan) or site in shipping.caching_sites(experiment, plan) or any(
        site.name in (t.source_site, t.target_site) and not is_fetch(experiment, t) for t in plan.transfers)


def emit_site(experiment: Experiment, plan: Plan, site_name: str) -> dict[str, str]:
    site = experiment.site(site_name)
    settings = site.kubernetes
    if site.kind != "kubernetes" or settings is None:
        raise ValueError(f"site {site_name} is not a Kubernetes site")
    _check_existing_names(site)
    folder = site_dir(site_name)
    manifests: dict[str, str] = {}  # file name within the folder -> text
    run_scripts: dict[str, str] = {}
    configurations: list[str] = []

    if settings.own_namespace:  # else the namespace is the cluster admins' (issue 15)
        manifests["namespace.yaml"] = dump_yaml(objects.namespace(settings.namespace), site.span)
    claim = settings.volume or k8s_work_claim(experiment.name)
    claim_file = None
    if settings.volume is None:
        claim_file = f"{claim}-pvc.yaml"
        size = claim_size(experiment, plan, site_name)
        manifests[claim_file] = dump_yaml(objects.work_claim(experiment, site, claim, size), site.span)
    mover = k8s_data_mover(experiment.name) if needs_mover(experiment, plan, site) else None
    if mover is not None:
        manifests[f"{mover}-deployment.yaml"] = dump_yaml(objects.data_mover(experiment, site, claim), site.span)

    for workload in site_workloads(experiment, plan, site_name):
        if isinstance(workload, JobWorkload):
            job_file = f"{workload.name}-job.yaml"
            job = objects.job(experiment, plan, site, claim, workload)
            manifests[job_file] = dump_yaml(job, workload.stage.span)
            if multinode.is_gang(workload):  # the pods' host names (applied with the Job: same instance label)
                headless = f"{workload.name}-headless-service.yaml"
                manifests[headless] = dump_yaml(multinode.headless_service(experiment, workload), workload.stage.span)
                configurations = [multinode.KUSTOMIZE_CONFIG]
            run_scripts[run_script_name(workload.unit)] = scripts.job_run_script(site, workload)
        elif isinstance(workload, ServiceWorkload):
            deployment_file = f"{workload.name}-deployment.yaml"
            service_file = f"{workload.name}-service.yaml"
            span = workload.service.span
            manifests[deployment_file] = dump_yaml(objects.deployment(experiment, plan, site, claim, workload), span)
            manifests[service_file] = dump_yaml(objects.service(experiment, workload), span)
            kustomization = ""
            if ingress.exposed(experiment, plan, site, workload):  # used from another site
                metadata = objects.service(experiment, workload).metadata
                manifests[f"{workload.name}-ingress.yaml"] = dump_yaml(ingress.ingress(site, workload, metadata), span)
                kustomization = ingress.host_follows_run(workload)
            run_scripts[run_script_name(workload.unit)] = scripts.service_run_script(site, workload, kustomization)
            if workload.service.lifetime == "experiment":  # the workflow removes it after its consumers
                run_scripts[f"stop-{workload.name}.sh"] = scripts.service_stop_script(site, workload)

    from compiler.backends.transfers import provenance as transfer_provenance  # transfers imports this package

    copies = [*site_fetches(experiment, plan, site_name), *site_pushes(experiment, plan, site_name),
              *site_ships(experiment, plan, site_name), *site_publishes(experiment, plan, site_name)]
    for fetch in copies:
        moved = fetch.transfer
        span = moved.span if isinstance(moved, (Shipped, Published)) else transfer_provenance(experiment, moved)
        manifests[fetch.manifest] = dump_yaml(fetch_job(experiment, site, claim, fetch), span)
        if isinstance(moved, Published):
            purpose = f"Publishes {moved.id} from the work volume to {moved.uri}, inside the cluster."
        elif isinstance(moved, Shipped) and moved.stem:
            purpose = f"Copies the result cache {moved.path}, staged in the bucket, to {moved.target_path} in the work volume."
        elif isinstance(moved, Shipped):
            purpose = f"Copies project path {moved.path}, staged in the bucket, into the work volume."
        elif fetch.verb == "push":
            purpose = (f"Copies {fetch.transfer.path} from the work volume to the staging bucket inside the "
                       f"cluster ({fetch.transfer.id}).")
        elif fetch.transfer.route.kind == "via-store":
            purpose = (f"Copies {fetch.transfer.path}, staged in the bucket, into the work volume inside the "
                       f"cluster ({fetch.transfer.id}).")
        else:
            purpose = f"Copies {fetch.transfer.path} into the work volume inside the cluster ({fetch.transfer.id})."
        run_scripts[fetch.script] = scripts.run_job_script(site, fetch.name, span, purpose)

    results = check.site_results(experiment, plan, site_name)
    if results:  # `mlc run` asks which of them are still there (SiteKind.results_query)
        manifests[f"{check.job_name(experiment)}-job.yaml"] = dump_yaml(
            check.check_job(experiment, site, claim, results), site.span)
        run_scripts[check.SCRIPT] = check.check_script(experiment, site, results, claim,
                                                       owned=settings.volume is None)

    files = {**manifests, **run_scripts}
    files["kustomization.yaml"] = _kustomization(site, list(manifests), configurations)
    if configurations:
        files[multinode.KUSTOMIZE_CONFIG] = header(site.span) + safe_yaml(multinode.kustomize_config())
    files["up.sh"] = scripts.up_script(site, None if claim_file is None else claim, mover)
    files["down.sh"] = scripts.down_script(site, labels.experiment_selector(experiment.name))
    return {f"{folder}/{name}": files[name] for name in sorted(files)}
