"""The Slurm kind: sbatch scripts (a sweep as one job array) submitted
through the cluster's login host; batch jobs only, no services."""

from __future__ import annotations

from typing import Any

from ...ir import Experiment, Plan, Site, SlurmSettings
from ..base import Access, Feature, SiteKind


class Slurm(SiteKind):
    name = "slurm"
    title = "Slurm"
    features = frozenset({Feature.JOB_ARRAYS, Feature.SECRET_FROM_ENV, Feature.SECRET_FROM_FILE})
    pool_keyword = "partition"
    reached_by = frozenset({Access.SSH})
    reaches = frozenset({Access.SSH, Access.OBJECT_STORE})  # its login host: rsync to ssh hosts, aws/gcloud

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
        """One rule per job group: it submits the whole array at once."""
        from ...backends import slurm
        from ...backends.naming import snake_rule
        from ...backends.snakefile import Param, Rule

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
            files=[("script", slurm.script_path(site.name, group)), ("submit", slurm.SUBMIT_SCRIPT)],
            params=[Param("login", site.name, "login"),
                    Param("root", site.name, "scratch", join=builder.experiment.name),
                    Param("site", site.name, value=site.name),
                    # submit.sh retries the failed tasks alone; a Snakemake
                    # retry would submit the whole array again.
                    Param("retries", site.name, value=str(builder.retries(members)))],
            shell="MLC_SLURM_LOGIN={params.login:q} MLC_SLURM_ROOT={params.root:q} MLC_SLURM_SITE={params.site:q} "
                  "MLC_RETRIES={params.retries:q} MLC_JOB_RECORD={params.record:q} bash {input.submit:q} "
                  "{input.script:q}",
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

    def transfer_params(self, experiment: Experiment) -> list[tuple[str, str, str]]:
        return [("login", "login", ""), ("root", "scratch", experiment.name)]

    def transfer_end(self, experiment: Experiment, site: Site, path: str):
        from ...backends.sites import slurm_root, slurm_settings
        from ...backends.transfers import End

        return End(site=site.name, kind=self.name, path=path, root=slurm_root(experiment, site),
                   login=slurm_settings(site).login or "")

    def service_stop_hint(self, site: Site, unit: str) -> str:
        raise AssertionError("a Slurm site hosts no services")  # fit.py keeps them off

    def cancel_job(self, record: dict[str, str]) -> str | None:
        from ...runner import jobs

        return jobs.cancel_slurm_job(record)


KIND = Slurm()
