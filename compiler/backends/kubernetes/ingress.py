"""The Ingress that makes a service reachable from other sites: for a
service on a Kubernetes site that declares `expose = "H"` and is used by a
unit placed elsewhere, host `<service object>-<run>.H` routed to its Service
(SiteKind.service_address gives consumers the same URL). The manifest names
no run (host `<service object>.H`); the run script's kustomization puts the
Ingress's own applied name, which carries the run's suffix, in the host's
first label, so two runs in one namespace never share a host. The
cluster's ingress controller and the wildcard DNS name for H are the site's own."""

from __future__ import annotations

import yaml

from compiler.backends.kubernetes.workloads import ServiceWorkload
from compiler.ir import Experiment, Plan, Site
from compiler.lazy import lazy_module

# The client (~0.2 s to import) only when a Kubernetes site is compiled.
client = lazy_module("kubernetes.client")


def exposed(experiment: Experiment, plan: Plan, site: Site, workload: ServiceWorkload) -> bool:
    """Whether a consumer on another site reaches this service through the site's exposure."""
    settings = site.kubernetes
    if settings is None or not settings.expose:
        return False
    return any(plan.where(unit).site != site.name for unit in workload.service.consumers)


def ingress(site: Site, workload: ServiceWorkload, metadata: client.V1ObjectMeta) -> client.V1Ingress:
    assert site.kubernetes is not None and site.kubernetes.expose
    backend = client.V1IngressBackend(service=client.V1IngressServiceBackend(
        name=workload.name, port=client.V1ServiceBackendPort(name="serve")))
    path = client.V1HTTPIngressPath(path="/", path_type="Prefix", backend=backend)
    rule = client.V1IngressRule(host=f"{workload.name}.{site.kubernetes.expose}",
                                http=client.V1HTTPIngressRuleValue(paths=[path]))
    return client.V1Ingress(api_version="networking.k8s.io/v1", kind="Ingress", metadata=metadata,
                            spec=client.V1IngressSpec(rules=[rule]))


def host_follows_run(workload: ServiceWorkload) -> str:
    """Kustomization YAML for the run's overlay (run_identity.APPLY_RUN): a
    replacement of the host's first label by the Ingress's applied name
    (kustomize runs replacements after the run's nameSuffix)."""
    selected = {"kind": "Ingress", "name": workload.name}
    replacement = {"source": {**selected, "fieldPath": "metadata.name"},
                   "targets": [{"select": selected, "fieldPaths": ["spec.rules.0.host"],
                                "options": {"delimiter": ".", "index": 0}}]}
    return yaml.safe_dump({"replacements": [replacement]}, sort_keys=False).rstrip("\n")
