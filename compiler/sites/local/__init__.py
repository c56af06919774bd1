"""The local kind: this machine runs the units itself, one bash script each;
the site's own fields are its one pool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...ir import Experiment, LocalSettings, Plan, Service, Site
from ..base import Access, Feature, SiteKind


class Local(SiteKind):
    name = "local"
    title = "local"
    features = frozenset({Feature.MPI_LAUNCH, Feature.PUBLISHES, Feature.SERVICES, Feature.SECRET_FROM_ENV, Feature.SECRET_FROM_FILE})
    pool_keyword = None
    step_uses_host = True
    reached_by = frozenset({Access.WORKFLOW_MACHINE})
    # This machine has every client a transfer needs; a staging cluster is
    # still reached through its bucket and a Job (reach.py's via-store).
    reaches = frozenset(Access) - {Access.STAGING}
    is_workflow_machine = True
    work_tree_in_output_folder = True

    def site_fields(self):
        from ...frontend import schema as S

        return {
            "cpus": S.FieldSpec(S.INT, True, S.AT_LEAST_ONE), "memory": S.FieldSpec(S.SIZE, True, S.MORE_THAN_ZERO),
            "gpus": S.FieldSpec(S.GPUS), "workdir": S.FieldSpec(S.STR),
            "speed": S.FieldSpec(S.FLOAT, range=S.MORE_THAN_ZERO),
        }

    def settings(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"local": LocalSettings(workdir=values.get("workdir", "work"))}

    def site_files(self, experiment: Experiment, plan: Plan, site: Site) -> dict[str, str]:
        from ...backends import local

        return local.emit_site(experiment, plan, site.name)

    def code_files(self, experiment: Experiment, site: Site, paths) -> dict[str, str]:
        from ...backends import shipping

        return shipping.link_files(experiment, site, paths)  # this machine has the project: no copy

    def code_step(self, builder, site: Site, paths) -> list:
        from ...backends import shipping

        return shipping.link_step(builder, site, paths)

    def unit_step(self, builder, unit: str, site: Site) -> None:
        from ...backends import local
        from ...backends.commands import unit_of
        from ...backends.naming import snake_rule
        from ...backends.snake_outputs import declarable, output_source
        from ...backends.snakefile import Param, Rule

        # A service's rule runs again when its inputs changed (a new model):
        # `restart` brings it back on the same port with them.
        start = " restart" if builder.is_service(unit) else ""
        target = unit_of(builder.experiment, unit)
        outputs = [] if builder.is_service(unit) else [
            output_source(site.name, output, output.span) for output in target.outputs if declarable(output)]
        params, env = [Param("workdir", site.name, "workdir")], "MLC_WORKDIR={params.workdir:q} "
        for variable, (where, key) in sorted(_service_env(builder, target).items()):
            params.append(Param(variable.lower(), where, key))
            env += f"{variable}={{params.{variable.lower()}:q}} "
        builder.rule_of_unit[unit] = builder.add(Rule(
            name=snake_rule(unit), comment=f"{unit} on the local site {site.name}",
            files=[("script", local.script_path(site.name, unit))],
            params=params,
            shell=env + "bash {input.script:q}" + start,
            span=target.span, retries=builder.retries([unit]), outputs=outputs,
        ))

    def service_stop_step(self, builder, service: Service, site: Site):
        from ...backends import local
        from ...backends.naming import snake_rule
        from ...backends.snakefile import Param, Rule

        return builder.add(Rule(
            name=snake_rule(f"stop_{service.name}"),
            comment=f"stop {service.name} on the local site {site.name}: its last consumer has finished",
            files=[("script", local.script_path(site.name, service.name))],
            params=[Param("workdir", site.name, "workdir")],
            shell="MLC_WORKDIR={params.workdir:q} bash {input.script:q} stop", span=service.span,
        ))

    def config(self, experiment: Experiment, site: Site) -> dict[str, str]:
        from ...backends.sites import local_workdir

        return {"workdir": local_workdir(site)}

    def transfer_params(self, experiment: Experiment) -> list[tuple[str, str, str]]:
        return [("root", "workdir", "")]

    def transfer_end(self, experiment: Experiment, site: Site, path: str):
        from ...backends.sites import local_workdir
        from ...backends.transfers import End

        return End(site=site.name, kind=self.name, path=path, root=local_workdir(site))

    def service_stop_hint(self, site: Site, unit: str) -> str:
        from ...backends import local

        return f"stop it with `bash {local.script_path(site.name, unit)} stop`"

    def results_folder(self, outdir: Path, config: dict) -> Path | None:
        return outdir / Path(str(config.get("workdir", "")))

    def service_state(self, experiment: Experiment, site: Site, service: Service, config: dict) -> dict:
        from ...runner.jobs import answers, connects

        url = f"http://127.0.0.1:{service.port}{service.http_health or ''}"
        ready = answers(url) if service.http_health else connects("127.0.0.1", service.port)
        return {"name": service.name, "site": site.name, "endpoint": url,
                "state": "ready" if ready else "not answering"}

    def stop_service(self, outdir: Path, site: Site, service: Service, config: dict) -> tuple[bool, str] | None:
        from ...backends import local
        from ...runner import jobs

        script = local.script_path(site.name, service.name)
        if not (outdir / script).exists():
            return None
        workdir = str(config.get("workdir", ""))
        result = jobs.run_script(outdir, script, ["stop"], {"MLC_WORKDIR": workdir} if workdir else {})
        return result.returncode == 0, "stopped" if result.returncode == 0 else result.stderr.strip()


def _service_env(builder, unit) -> dict[str, tuple[str, str]]:
    """Variable -> (site, config.yaml key): the run-time settings the
    addresses of the services `unit` uses name (SiteKind.consumer_env); the
    first service's site wins a variable two would set."""
    from .. import registry

    env: dict[str, tuple[str, str]] = {}
    for port in unit.inputs:
        if port.service is not None:
            site = builder.experiment.site(builder.plan.where(port.service).site)
            for variable, key in registry.of(site).consumer_env(site):
                env.setdefault(variable, (site.name, key))
    return env


KIND = Local()
