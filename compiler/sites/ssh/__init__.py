"""The ssh kind: a workstation or GPU box reached over ssh. Each unit's bash
script is copied to the host and run there in the experiment's work root
(<workdir>/<experiment>); services run as background process groups with a
pid file; data moves with rsync over ssh. The site's own fields are its one
pool. The run-time side is ssh/driver.py in the output folder (driver.py
here), built on compiler/transport/ssh.py."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ...ir import Experiment, Plan, Service, Site
from ..base import Access, Feature, SiteKind


class Ssh(SiteKind):
    name = "ssh"
    title = "ssh"
    features = frozenset({Feature.MPI_LAUNCH, Feature.PUBLISHES, Feature.SERVICES, Feature.SECRET_FROM_ENV, Feature.SECRET_FROM_FILE})
    pool_keyword = None
    step_uses_host = True
    reached_by = frozenset({Access.SSH})
    reaches = frozenset({Access.SSH})  # its host runs rsync to and from other ssh hosts
    step_cache_copy = "ssh/step_cache.py"

    def site_fields(self):
        from ...frontend import schema as S

        return {
            "host": S.FieldSpec(S.STR, True), "cpus": S.FieldSpec(S.INT, True, S.AT_LEAST_ONE),
            "memory": S.FieldSpec(S.SIZE, True, S.MORE_THAN_ZERO), "gpus": S.FieldSpec(S.GPUS),
            "workdir": S.FieldSpec(S.STR), "ssh_config": S.FieldSpec(S.STR),
            "speed": S.FieldSpec(S.FLOAT, range=S.MORE_THAN_ZERO),
        }

    def settings(self, values: dict[str, Any]) -> dict[str, Any]:
        from ...ir import SshSettings

        if "host" not in values:  # reported as a missing field; the site is not used
            return {}
        given = {key: values[key] for key in ("host", "workdir", "ssh_config") if key in values}
        return {"ssh": SshSettings(**given)}

    def site_files(self, experiment: Experiment, plan: Plan, site: Site) -> dict[str, str]:
        from ...backends.snakefile import used_sites
        from ...sites import registry
        from . import emit

        files = emit.emit_site(experiment, plan, site.name)
        # One driver for all ssh sites, with the first of them (a site that
        # only a transfer touches needs it too, so not `shared_files`).
        used = used_sites(plan)
        first = min(s.name for s in experiment.sites if registry.of(s) is self and s.name in used)
        return {**files, **emit.driver_files()} if site.name == first else files

    def unit_step(self, builder, unit: str, site: Site) -> None:
        from ...backends.commands import unit_of
        from ...backends.naming import file_stem, snake_rule
        from ...backends.snakefile import Param, Rule
        from . import emit

        params = [Param("host", site.name, "host"), Param("ssh_config", site.name, "ssh_config"),
                  Param("root", site.name, "root")]
        # Settings as environment variables: an empty one (no ssh config)
        # stays a value, where Snakemake's `:q` would drop an empty word.
        env = "MLC_SSH_HOST={params.host:q} MLC_SSH_CONFIG={params.ssh_config:q} MLC_SSH_ROOT={params.root:q}"
        if builder.is_service(unit):
            service = unit_of(builder.experiment, unit)
            params += [Param("name", site.name, value=file_stem(unit)), Param("port", site.name, value=str(service.port))]
            shell = f"{env} python3 {{input.driver:q}} start {{input.script:q}} {{params.name:q}} {{params.port:q}}"
            if service.http_health:
                params.append(Param("health", site.name, value=service.http_health))
                shell += " {params.health:q}"
        else:
            params.append(Param("usage", site.name, value=emit.usage_name(unit)))
            shell = f"{env} python3 {{input.driver:q}} run {{input.script:q}} {{params.usage:q}}"
        builder.rule_of_unit[unit] = builder.add(Rule(
            name=snake_rule(unit), comment=f"{unit} on the ssh site {site.name}",
            files=[("script", emit.script_path(site.name, unit)), ("driver", emit.DRIVER)],
            params=params, shell=shell,
            span=unit_of(builder.experiment, unit).span, retries=builder.retries([unit]),
        ))

    def service_stop_step(self, builder, service: Service, site: Site):
        from ...backends.naming import file_stem, snake_rule
        from ...backends.snakefile import Param, Rule
        from . import emit

        return builder.add(Rule(
            name=snake_rule(f"stop_{service.name}"),
            comment=f"stop {service.name} on the ssh site {site.name}: its last consumer has finished",
            files=[("driver", emit.DRIVER)],
            params=[Param("host", site.name, "host"), Param("ssh_config", site.name, "ssh_config"),
                    Param("root", site.name, "root"), Param("name", site.name, value=file_stem(service.name))],
            shell="MLC_SSH_HOST={params.host:q} MLC_SSH_CONFIG={params.ssh_config:q} MLC_SSH_ROOT={params.root:q} "
                  "python3 {input.driver:q} stop {params.name:q}",
            span=service.span,
        ))

    def config(self, experiment: Experiment, site: Site) -> dict[str, str]:
        from . import emit

        settings = emit.settings(site)
        return {"host": settings.host, "ssh_config": settings.ssh_config or "", "root": emit.work_root(experiment, site)}

    def results_query(self, experiment: str, config: dict, paths: list[str],
                      script: str | None = None, outdir: Path | None = None,
                      site: str = "") -> list[str] | None:
        from ...runner.remote_results import query

        host = str(config.get("host", ""))
        options = ["-F", str(config["ssh_config"])] if config.get("ssh_config") else []
        return query(host, options, str(config.get("root", "")), paths, script) if host else None

    def work_root_command(self, experiment: str, config: dict, argv: list[str]) -> list[str] | None:
        from ...runner.remote_results import in_work_root

        host = str(config.get("host", ""))
        options = ["-F", str(config["ssh_config"])] if config.get("ssh_config") else []
        return in_work_root(host, options, str(config.get("root", "")), argv) if host else None

    def transfer_params(self, experiment: Experiment) -> list[tuple[str, str, str]]:
        # The transfer template reads an ssh end's host as its login.
        return [("login", "host", ""), ("ssh_config", "ssh_config", ""), ("root", "root", "")]

    def transfer_end(self, experiment: Experiment, site: Site, path: str):
        from ...backends.transfers import End
        from . import emit

        settings = emit.settings(site)
        return End(site=site.name, kind=self.name, path=path, root=emit.work_root(experiment, site),
                   login=settings.host, ssh_config=settings.ssh_config or "")

    def service_stop_hint(self, site: Site, unit: str) -> str:
        from ...backends.naming import file_stem

        return (f"stop it with `mlc down` (or `python3 ssh/driver.py stop {file_stem(unit)}` with "
                "MLC_SSH_HOST, MLC_SSH_CONFIG and MLC_SSH_ROOT from config.yaml)")

    def service_state(self, experiment: Experiment, site: Site, service: Service, config: dict) -> dict:
        # No output folder here: the shared connection lives in a private
        # directory of this user's.
        control = Path(tempfile.gettempdir()) / f"mlc-ssh-{os.getuid()}" / "status"
        result = _on_service(site, config, control, "status", service)
        state = {0: "running", 1: "not running"}.get(result.returncode, "unreachable")
        return {"name": service.name, "site": site.name, "endpoint": f"{_connection(site, config)[0]}:{service.port}",
                "state": state}

    def stop_service(self, outdir: Path, site: Site, service: Service, config: dict) -> tuple[bool, str] | None:
        result = _on_service(site, config, outdir / ".mlc" / "ssh", "stop", service)
        return result.returncode == 0, "stopped" if result.returncode == 0 else result.stderr.strip()


def _connection(site: Site, config: dict) -> tuple[str, str, str]:
    """Host, ssh config and work root as config.yaml (possibly edited) gives them."""
    from . import emit

    compiled = emit.settings(site)
    return str(config.get("host") or compiled.host), str(config.get("ssh_config") or ""), str(config.get("root") or "")


def _on_service(site: Site, config: dict, control: Path, command: str, service: Service):
    """Runs `status` or `stop` of the service's pid file on the host."""
    from ...backends.naming import file_stem
    from ...transport import ssh as transport
    from . import driver

    host_name, ssh_config, root = _connection(site, config)
    host = driver.host_of(host_name, ssh_config, control)
    transport.prepare_control_dir(host)
    pid_file = driver.pid_file(file_stem(service.name))
    argv = (transport.status_argv(host, root, pid_file) if command == "status"
            else transport.stop_background_argv(host, root, pid_file))
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


KIND = Ssh()
