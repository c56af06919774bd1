"""The Kubernetes kind: manifests (an Indexed Job per sweep, a Deployment and
Service per service) applied by kubectl scripts; `up.sh` prepares the site
before anything runs there, `down.sh` is what `mlc down` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...ir import Experiment, KubernetesSettings, Plan, PodOptions, Service, Site
from ..base import Access, Feature, SiteKind


class Kubernetes(SiteKind):
    name = "kubernetes"
    title = "Kubernetes"
    features = frozenset({Feature.SERVICES, Feature.JOB_ARRAYS, Feature.MULTI_NODE, Feature.PUBLISHES,
                          Feature.SECRET_FROM_KUBERNETES})
    pool_keyword = "pool"
    # Through the site's staging bucket (a Job in the cluster copies between
    # it and the work volume), or with `data_path = "exec"` through `kubectl
    # exec` into a data mover; a site states one (site_reached_by).
    reached_by = frozenset({Access.STAGING, Access.KUBECTL})
    # A Job in the cluster copies from object storage into the work volume
    # (backends/kubernetes/fetch.py); nothing else is fetched from inside.
    reaches = frozenset({Access.OBJECT_STORE})
    # A published output is copied to object storage by a Job in the cluster
    # that mounts the work volume (publish-<id>.sh in k8s/<site>/).
    publishes_itself = True
    # The result cache runs in the stage's pod when its image has python3
    # (backends/kubernetes/pod_commands.py), from the run's work volume.
    step_cache_copy = "k8s/step_cache.py"

    def site_reached_by(self, site: Site) -> frozenset[Access]:
        settings = site.kubernetes
        if settings is None:
            return frozenset()
        if settings.data_path == "exec":
            return frozenset({Access.KUBECTL})
        return frozenset({Access.STAGING}) if settings.staging else frozenset()

    def runs_cached(self, instance) -> bool:
        # Each pod of a multi-node stage runs the command: not one result to keep.
        from ...backends import launch

        return not launch.is_multinode(instance)

    def staging(self, site: Site) -> str | None:
        return site.kubernetes.staging if site.kubernetes else None

    def no_route_hint(self, site: Site) -> str:
        return ('give the site `staging = "s3://BUCKET/PREFIX"` (or gs://): Jobs in the cluster copy through it, '
                'resumably; or `data_path = "exec"`, which streams through `kubectl exec` (pods/exec rights, '
                "the API server carries the bytes)")

    def field_problems(self, values: dict[str, Any]) -> list[tuple[str, str, str, str]]:
        problems = []
        staging = values.get("staging")
        if staging is not None:
            scheme, sep, rest = staging.partition("://")
            if not sep or scheme not in ("s3", "gs") or not rest.split("/", 1)[0] \
                    or any(not c.isprintable() for c in staging):
                problems.append(("E0593", "staging", f"`{staging}` is not an object-storage location to stage in",
                                 'write `staging = "s3://BUCKET/PREFIX"` (or gs://): transfers into and out of the '
                                 "cluster are copied through it by Jobs in the cluster"))
            elif values.get("data_path") == "exec":
                problems.append(("E0595", "data_path", '`data_path = "exec"` and `staging` exclude each other',
                                 "leave out `data_path` to stage through the bucket (no pods/exec right needed), "
                                 "or `staging` to stream through `kubectl exec`"))
        return problems

    def site_fields(self):
        from ...frontend import schema as S

        return {
            "context": S.FieldSpec(S.STR), "namespace": S.FieldSpec(S.STR), "volume": S.FieldSpec(S.STR),
            "image_pull_secrets": S.FieldSpec(S.list_of(S.STR)), "default_image": S.FieldSpec(S.STR),
            "expose": S.FieldSpec(S.STR),
            "pod_security": S.FieldSpec(S.enum("restricted", "baseline")),
            "own_namespace": S.FieldSpec(S.BOOL),
            "storage_class": S.FieldSpec(S.STR),
            "access_mode": S.FieldSpec(S.enum("ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")),
            "transfer_image": S.FieldSpec(S.STR),
            "staging": S.FieldSpec(S.STR),
            "data_path": S.FieldSpec(S.enum("staging", "exec")),
            **self.pool_fields(),
        }

    def pool_fields(self):
        """Pod settings a site states for all its pods and a pool overrides
        (labels and annotations are merged, the pool's winning)."""
        from ...frontend import schema as S

        return {
            "service_account": S.FieldSpec(S.STR), "priority_class": S.FieldSpec(S.STR),
            "runtime_class": S.FieldSpec(S.STR), "labels": S.FieldSpec(S.map_of(S.STR)),
            "annotations": S.FieldSpec(S.map_of(S.STR)),
        }

    def _pod_options(self, values: dict[str, Any]) -> PodOptions:
        return PodOptions(**{name: values[name] for name in self.pool_fields() if name in values})

    def settings(self, values: dict[str, Any]) -> dict[str, Any]:
        own = {name: value for name, value in values.items() if name not in self.pool_fields()}
        return {"kubernetes": KubernetesSettings(**own, pod=self._pod_options(values))}

    def pool_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"pod": self._pod_options(values)}

    def site_files(self, experiment: Experiment, plan: Plan, site: Site) -> dict[str, str]:
        from ...backends import kubernetes

        return kubernetes.emit_site(experiment, plan, site.name)

    def setup_step(self, builder, site: Site):
        from ...backends import kubernetes

        return builder.add(_kube_rule(f"up_{site.name}", f"prepare Kubernetes site {site.name}",
                                      kubernetes.up_script(site.name), site.name, site.span))

    def unit_step(self, builder, unit: str, site: Site) -> None:
        """One rule per workload script (sweep members share an Indexed
        Job). No Snakemake retries: the Job's backoffLimit retries its pods."""
        from ...backends import kubernetes
        from ...backends.commands import unit_of

        script = kubernetes.run_script(builder.experiment, builder.plan, unit)
        by_script = builder.memo(("kubernetes scripts",), dict)
        rule = by_script.get(script)
        if rule is None:
            name = script.rsplit("/", 1)[-1].removeprefix("run-").removesuffix(".sh")
            rule = builder.add(_kube_rule(name, f"{name} on Kubernetes site {site.name}", script, site.name,
                                          unit_of(builder.experiment, unit).span))
            by_script[script] = rule
        builder.rule_of_unit[unit] = rule

    def config(self, experiment: Experiment, site: Site) -> dict[str, str]:
        from ...backends.sites import kubernetes_settings

        settings = kubernetes_settings(site)
        # run: the run identity ("" = the user; docs/kubernetes.md "Run identity");
        # overlay: a kustomization to apply instead of the site folder.
        return {"context": settings.context or "", "namespace": settings.namespace, "run": "", "overlay": ""}

    def transfer_params(self, experiment: Experiment) -> list[tuple[str, str, str]]:
        return [("context", "context", ""), ("namespace", "namespace", ""), ("run", "run", "")]

    def transfer_end(self, experiment: Experiment, site: Site, path: str):
        from ...backends.sites import kubernetes_settings
        from ...backends.transfers import End

        settings = kubernetes_settings(site)
        return End(site=site.name, kind=self.name, path=path, context=settings.context or "",
                   namespace=settings.namespace)

    def publish_step(self, builder, site: Site, publication, after: str):
        from ...backends import kubernetes

        rule = _kube_rule(f"publish_{publication.id}", f"publish {publication.id} to {publication.output.publish} "
                          f"from Kubernetes site {site.name}, by a Job in the cluster",
                          kubernetes.publish_script(builder.experiment, builder.plan, publication),
                          site.name, publication.output.span)
        rule.after.append(after)
        return rule

    def service_stop_step(self, builder, service: Service, site: Site):
        from ...backends import kubernetes
        from ...backends.kubernetes.workloads import workload_of

        workload = workload_of(builder.experiment, builder.plan, service.name)
        script = f"{kubernetes.site_dir(site.name)}/stop-{workload.name}.sh"
        return builder.add(_kube_rule(f"stop_{service.name}", f"stop {service.name} on Kubernetes site {site.name}: "
                                      "its last consumer has finished", script, site.name, service.span))

    def service_reach(self, site: Site, consumer: Site) -> str | None:
        if consumer.name == site.name:
            return "cluster DNS on the same Kubernetes site"
        expose = site.kubernetes.expose if site.kubernetes else None
        return f"the ingress host of {site.name} ({expose})" if expose else None

    def missing_exposure(self, site: Site) -> str:
        return (f"Kubernetes site `{site.name}` declares no `expose` (an ingress host), so its services "
                "are reached only from that site")

    def service_address(self, experiment: Experiment, site: Site, service: Service, consumer: Site):
        """The Service's applied name carries the run's suffix (run_identity.py):
        a pod of the run knows it as MLC_RUN, and the namespace it was applied
        to as MLC_NAMESPACE; a consumer elsewhere works the run out as the
        scripts do and reaches the Ingress host `<object>-<run>.<expose>`."""
        from shlex import quote

        from ...backends.kubernetes.run_identity import RUN_ID_WORD
        from ...backends.naming import k8s_service_name
        from ..base import ServiceAddress

        name = k8s_service_name(experiment.name, service.name)
        settings = site.kubernetes
        if consumer.name == site.name or settings is None or not settings.expose:
            return ServiceAddress(shell=quote(f"http://{name}-") + '"${MLC_RUN:?}"."${MLC_NAMESPACE:?}"'
                                  + quote(f".svc:{service.port}"))
        return ServiceAddress(shell=quote(f"http://{name}-") + RUN_ID_WORD + quote(f".{settings.expose}"))

    def consumer_env(self, site: Site) -> list[tuple[str, str]]:
        # The run's configured id (config.yaml's `run`), as the scripts get it.
        return [("KUBE_RUN", "run")]

    def service_stop_hint(self, site: Site, unit: str) -> str:
        return f"remove it with `mlc down` (or k8s/{site.name}/down.sh)"

    def service_state(self, experiment: Experiment, site: Site, service: Service, config: dict) -> dict:
        """The Service object of this run (its name carries the run's
        suffix) at its in-cluster address in config.yaml's namespace, and
        readiness as the run's Deployment reports it, when kubectl can ask."""
        from ...backends.kubernetes.run_identity import run_id
        from ...backends.naming import k8s_service_name
        from ...runner.jobs import deployment_ready

        name = f"{k8s_service_name(experiment.name, service.name)}-{run_id(str(config.get('run') or ''))}"
        namespace = str(config.get("namespace") or (site.kubernetes.namespace if site.kubernetes else "default"))
        ready = deployment_ready(name, str(config.get("context") or ""), namespace, service.replicas)
        state = "not probed" if ready is None else "ready" if ready else "not ready"
        return {"name": service.name, "site": site.name, "endpoint": f"{name}.{namespace}.svc:{service.port}",
                "state": state}

    def step_usage(self, outdir: Path, rule: str, index: int | None) -> dict | None:
        """From the pod status the Job's run script saved (usage.py)."""
        from . import usage

        return usage.read(outdir, rule, index)

    def results_query(self, experiment: str, config: dict, paths: list[str],
                      script: str | None = None, outdir: Path | None = None,
                      site: str = "") -> list[str] | None:
        """The site's check.sh (backends/kubernetes/check.py): a Job in the
        cluster stats the results in the run's work directory. Only the
        existence check: the run records' sizes (`script`) are not asked."""
        from ...backends import kubernetes
        from ...backends.kubernetes.check import SCRIPT

        if script is not None or outdir is None or not site:
            return None
        check = outdir / kubernetes.site_dir(site) / SCRIPT
        if not check.is_file():
            return None
        env = [f"KUBE_{name.upper()}={config.get(name) or ''}" for name in ("context", "namespace", "run", "overlay")]
        return ["env", *env, "bash", str(check.resolve()), *paths]

    def tear_down(self, outdir: Path, site: Site, config: dict) -> tuple[bool, str] | None:
        from ...backends import kubernetes
        from ...runner import jobs

        script = kubernetes.down_script(site.name)
        if not (outdir / script).exists():
            return None
        env = {k: str(v) for k, v in (("KUBE_CONTEXT", config.get("context")),
                                      ("KUBE_NAMESPACE", config.get("namespace")),
                                      ("KUBE_RUN", config.get("run"))) if v}
        result = jobs.run_script(outdir, script, [], env)
        if result.returncode == 0:
            return True, result.stdout.strip() or "torn down"
        return False, result.stderr.strip()


def _kube_rule(name: str, comment: str, script: str, site: str, span):
    from ...backends.naming import snake_rule
    from ...backends.snakefile import Param, Rule

    return Rule(
        name=snake_rule(name), comment=comment, files=[("script", script)],
        params=[Param("context", site, "context"), Param("namespace", site, "namespace"),
                Param("run", site, "run"), Param("overlay", site, "overlay")],
        shell="KUBE_CONTEXT={params.context:q} KUBE_NAMESPACE={params.namespace:q} KUBE_RUN={params.run:q} "
              "KUBE_OVERLAY={params.overlay:q} bash {input.script:q}",
        span=span,
    )


KIND = Kubernetes()
