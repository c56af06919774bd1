"""The Slurm kind: sbatch scripts (a sweep as one job array) submitted
through the cluster's login host; a service is a job of its own that serves
until it is cancelled (compiler/backends/slurm_services.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...ir import Experiment, Plan, Site, SlurmSettings
from ..base import Access, Feature, SiteKind


class Slurm(SiteKind):
    name = "slurm"
    job_accounting = True
    title = "Slurm"
    features = frozenset({Feature.SERVICES, Feature.MPI_LAUNCH, Feature.PUBLISHES, Feature.JOB_ARRAYS, Feature.MULTI_NODE,
                          Feature.SECRET_FROM_ENV, Feature.SECRET_FROM_FILE})
    pool_keyword = "partition"
    reached_by = frozenset({Access.SSH})
    reaches = frozenset({Access.SSH, Access.OBJECT_STORE})  # its login host: rsync to ssh hosts, aws/gcloud
    step_cache_copy = "slurm/step_cache.py"

    def site_fields(self):
        from ...frontend import schema as S

        return {
            "login": S.FieldSpec(S.STR), "account": S.FieldSpec(S.STR), "qos": S.FieldSpec(S.STR),
            "modules": S.FieldSpec(S.list_of(S.STR)), "scratch": S.FieldSpec(S.STR),
            "gpu_directive": S.FieldSpec(S.enum("gres", "gpus")),
            "container": S.FieldSpec(S.enum("apptainer", "singularity")),
        }

    def settings(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"slurm": SlurmSettings(**values)}

    def site_files(self, experiment: Experiment, plan: Plan, site: Site) -> dict[str, str]:
        from ...backends import slurm

        return slurm.emit_site(experiment, plan, site.name)

    def shared_files(self, experiment: Experiment) -> dict[str, str]:
        from ...backends import slurm

        return slurm.submit_script(experiment)

    def setup_step(self, builder, site: Site):
        """Pulls the site's container images once, on the login host
        (backends/slurm_images.py), before any of its jobs runs."""
        from ...backends import slurm, slurm_images
        from ...backends.naming import snake_rule
        from ...backends.snakefile import Param, Rule

        if not slurm_images.pulls(slurm.site_images(builder.experiment, builder.plan, site.name)):
            return None
        return builder.add(Rule(
            name=snake_rule(f"images_{site.name}"), comment=f"pull the container images of Slurm site {site.name}",
            files=[("script", slurm_images.script_path(site.name))],
            params=[Param("login", site.name, "login"),
                    Param("root", site.name, "scratch", join=builder.experiment.name)],
            shell="MLC_SLURM_LOGIN={params.login:q} MLC_SLURM_ROOT={params.root:q} bash {input.script:q}",
            span=site.span,
        ))

    def unit_step(self, builder, unit: str, site: Site) -> None:
        """One rule per job group: it submits the whole array at once. A
        service's rule submits its job and waits until it is ready."""
        from ...backends import slurm
        from ...backends.naming import snake_rule
        from ...backends.snakefile import Param, Rule

        if builder.is_service(unit):
            builder.rule_of_unit[unit] = builder.add(_service_rule(builder, builder.experiment.unit(unit), site,
                                                                   "start"))
            return

        groups = builder.memo(("slurm groups", site.name), lambda: {  # computed once per site, not per unit
            inst.id: group
            for group in slurm.job_groups(builder.experiment, builder.plan, site.name)
            for inst in group.instances
        })
        group = groups[unit]
        members = [inst.id for inst in group.instances]
        rule = builder.add(Rule(
            name=snake_rule(group.name),
            comment=f"stage {group.stage} on Slurm {site.name}.{group.pool.name}",
            files=[("script", slurm.script_path(site.name, group)), ("submit", slurm.SUBMIT_SCRIPT),
                   ("notes", slurm.NOTES_SCRIPT)],
            params=[Param("login", site.name, "login"),
                    Param("root", site.name, "scratch", join=builder.experiment.name),
                    Param("site", site.name, value=site.name),
                    # submit.sh retries the failed tasks alone; a Snakemake
                    # retry would submit the whole array again.
                    Param("retries", site.name, value=str(builder.retries(members))),
                    Param("notes", site.name, value=slurm.cache_notes(group))],
            # Once the job succeeded, what the result cache did for each task (for `mlc run`).
            shell="{{ MLC_SLURM_LOGIN={params.login:q} MLC_SLURM_ROOT={params.root:q} MLC_SLURM_SITE={params.site:q} "
                  "MLC_RETRIES={params.retries:q} MLC_JOB_RECORD={params.record:q} bash {input.submit:q} "
                  "{input.script:q} && MLC_SLURM_LOGIN={params.login:q} MLC_SLURM_ROOT={params.root:q} "
                  "bash {input.notes:q} {params.notes:q}; }}",
            span=group.instances[0].span,
        ))
        # The record of the submitted job (`mlc status`, `mlc down`), named
        # after the rule's final name.
        rule.params.append(Param("record", site.name, value=f".mlc/jobs/{rule.name}"))
        for member in members:
            builder.rule_of_unit[member] = rule

    def config(self, experiment: Experiment, site: Site) -> dict[str, str]:
        from ...backends.sites import slurm_settings

        settings = slurm_settings(site)
        return {"login": settings.login or "", "scratch": settings.scratch}

    def queue_waits(self, site: Site) -> dict[str, tuple[float | None, str]]:
        """`sbatch --test-only` per partition, on the login host (queue.py)."""
        from ...backends.sites import slurm_settings
        from .queue import expected_wait

        settings = slurm_settings(site)
        return {pool.name: expected_wait(settings.login or "", pool.name, settings.account, settings.qos)
                for pool in site.pools}

    def transfer_params(self, experiment: Experiment) -> list[tuple[str, str, str]]:
        return [("login", "login", ""), ("root", "scratch", experiment.name)]

    def results_query(self, experiment: str, config: dict, paths: list[str],
                      script: str | None = None, outdir: Path | None = None,
                      site: str = "") -> list[str] | None:
        from ...runner.remote_results import query

        root = f"{str(config.get('scratch', '')).rstrip('/')}/{experiment}"
        return query(str(config.get("login", "")), [], root, paths, script)

    def work_root_command(self, experiment: str, config: dict, argv: list[str]) -> list[str] | None:
        from ...runner.remote_results import in_work_root

        root = f"{str(config.get('scratch', '')).rstrip('/')}/{experiment}"
        return in_work_root(str(config.get("login", "")), [], root, argv)

    def transfer_end(self, experiment: Experiment, site: Site, path: str):
        from ...backends.sites import slurm_root, slurm_settings
        from ...backends.transfers import End

        return End(site=site.name, kind=self.name, path=path, root=slurm_root(experiment, site),
                   login=slurm_settings(site).login or "")

    def service_reach(self, site: Site, consumer: Site) -> str | None:
        if consumer.name == site.name:
            return "the compute node's host and port, published in the work tree"
        return None

    def missing_exposure(self, site: Site) -> str:
        return (f"Slurm site `{site.name}` serves only jobs on the same cluster (its compute nodes "
                "are not reachable from elsewhere)")

    def service_address(self, experiment: Experiment, site: Site, service, consumer: Site):
        from ..base import ServiceAddress, published_address

        return ServiceAddress(published=published_address(service))

    def service_stop_step(self, builder, service, site: Site):
        return builder.add(_service_rule(builder, service, site, "stop"))

    def service_stop_hint(self, site: Site, unit: str) -> str:
        return "cancel its job with `mlc down` (or scancel; its id is in .mlc/jobs/)"

    def service_state(self, experiment: Experiment, site: Site, service, config: dict) -> dict:
        """The address the job published, if it is up (the job withdraws it
        when it ends); its compute node may not be reachable from here."""
        from ...backends.sites import slurm_settings
        from ...runner.jobs import read_on_cluster
        from ..base import published_address

        login = str(config.get("login") or "")
        root = f"{str(config.get('scratch') or slurm_settings(site).scratch).rstrip('/')}/{experiment.name}"
        url = (read_on_cluster(login, root, published_address(service)) or "").strip()
        return {"name": service.name, "site": site.name, "endpoint": url or None,
                "state": "ready (address published)" if url else "not running"}

    def stop_service(self, outdir, site: Site, service, config: dict):
        from ...backends.naming import snake_rule
        from ...runner import jobs

        record = jobs.job_record(outdir, snake_rule(service.name))
        if not record.get("id"):
            return None
        return True, jobs.cancel_slurm_job(record)

    def cancel_job(self, record: dict[str, str]) -> str | None:
        from ...runner import jobs

        return jobs.cancel_slurm_job(record)


def _service_rule(builder, service, site: Site, action: str):
    """The rule that starts a service's job (submits it, waits for its
    address) or stops it (cancels the job the start recorded)."""
    from ...backends import slurm_services
    from ...backends.naming import snake_rule
    from ...backends.snakefile import Param, Rule
    from ..base import published_address

    record = f".mlc/jobs/{snake_rule(service.name)}"
    files = [("service", slurm_services.SERVICE_SCRIPT)]
    tail = "stop"
    if action == "start":
        files.insert(0, ("script", slurm_services.script_path(site.name, service.name)))
        tail = "start {input.script:q} {params.address:q}"
    return Rule(
        name=snake_rule(service.name if action == "start" else f"stop_{service.name}"),
        comment=(f"service {service.name} on Slurm {site.name}" if action == "start"
                 else f"stop {service.name} on Slurm {site.name}: its last consumer has finished"),
        files=files,
        params=[Param("login", site.name, "login"), Param("root", site.name, "scratch", join=builder.experiment.name),
                Param("site", site.name, value=site.name), Param("record", site.name, value=record),
                *([Param("address", site.name, value=published_address(service))] if action == "start" else [])],
        shell="MLC_SLURM_LOGIN={params.login:q} MLC_SLURM_ROOT={params.root:q} MLC_SLURM_SITE={params.site:q} "
              "MLC_JOB_RECORD={params.record:q} bash {input.service:q} " + tail,
        span=service.span,
    )


KIND = Slurm()
