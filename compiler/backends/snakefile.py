"""The Snakefile that glues the generated scripts together, and the
config.yaml it reads site settings from.

One rule per runnable script: a local stage instance or service, a Slurm job
(array) group, a Kubernetes workload, a transfer, and the set-up of each
Kubernetes site. Each rule's output is a flag file under .mlc/done/, so a
re-run resumes after the last rule that finished. Rules pass site settings
to the scripts as environment variables read from config.yaml; no file name
or user value is pasted into a shell line (paths go through `input`/`params`
and Snakemake's `:q` quoting), and every value reaches the Snakefile through
snake_literals (Python literals Snakemake does not format)."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from ..ir import DataRef, DatasetRef, Experiment, OutputRef, Plan, Span, Transfer
from . import kubernetes, local, slurm, snake_literals, transfers
from .commands import unit_of
from .naming import snake_rule
from .sites import kubernetes_settings, local_workdir, slurm_settings
from .templating import generated_header, render

STEP_RECORDS = ".mlc/steps"  # <rule>: `started` or `failed`, written by the rule itself


def _recorded(command: str, rule: str) -> str:
    """The rule's shell line: the command, its output also in the rule's log,
    framed by a record of the step's state in .mlc/steps/<rule>. `mlc run`
    follows progress from these records and the done flags (Snakemake's log
    format changes between versions; these files do not). Rule names are
    identifiers: safe in a shell word."""
    record = f"{STEP_RECORDS}/{rule}"
    return (f"mkdir -p {STEP_RECORDS} && echo started >{record} && {{{{ {command} 2>&1 | tee {{log:q}}; }}}}"
            f" || {{{{ status=$?; echo failed >{record}; exit $status; }}}}")
TRANSFER_RETRIES = 1  # a dropped connection is worth one more attempt


@dataclass(frozen=True)
class Param:
    """A rule parameter read from config.yaml: sites.<site>.<key>, joined
    with `join` when given (a Slurm work root is <scratch>/<experiment>);
    or a constant `value`."""

    name: str
    site: str
    key: str = ""
    join: str = ""
    value: str | None = None  # a constant instead of a config.yaml setting

    def source(self, span: Span) -> str:
        """The parameter as Snakefile source."""
        if self.value is not None:
            return snake_literals.constant(self.value, span)
        return snake_literals.setting(self.site, self.key, self.join, span)


@dataclass
class Rule:
    name: str
    comment: str
    files: list[tuple[str, str]]  # named inputs: the scripts the rule runs
    params: list[Param]
    shell: str  # mlc's own text (values arrive through {params.x:q}); `_add` frames it with the log and the step records
    span: Span  # what the rule runs came from, for errors about it
    retries: int = 0
    after: list[str] = field(default_factory=list)  # flags of upstream rules

    @property
    def flag(self) -> str:
        return f".mlc/done/{self.name}"

    @property
    def log(self) -> str:
        return f".mlc/logs/{self.name}.log"


class _Builder:
    """Collects the rules in a readable order: for each unit in plan order,
    the transfers it waits for, then the rule that runs it."""

    def __init__(self, experiment: Experiment, plan: Plan) -> None:
        self.experiment = experiment
        self.plan = plan
        self.rules: list[Rule] = []
        self.rule_of_unit: dict[str, Rule] = {}
        self.rule_of_transfer: dict[str, Rule] = {}
        self.up_rule: dict[str, Rule] = {}
        self._by_script: dict[str, Rule] = {}
        self._names: set[str] = {snake_literals.TARGET_RULE}
        self._slurm_group_of: dict[str, dict[str, slurm.JobGroup]] = {}  # site -> unit -> group

    def _add(self, rule: Rule) -> Rule:
        base, suffix = rule.name, 2
        while rule.name in self._names:
            rule.name = f"{base}_{suffix}"
            suffix += 1
        self._names.add(rule.name)
        rule.shell = _recorded(rule.shell, rule.name)  # the name is final now
        self.rules.append(rule)
        return rule

    def _slurm_group(self, site_name: str, unit: str) -> slurm.JobGroup:
        """The job group (one sbatch script) that runs `unit`; the groups of a
        site are computed once, not once per unit."""
        if site_name not in self._slurm_group_of:
            self._slurm_group_of[site_name] = {
                inst.id: group
                for group in slurm.job_groups(self.experiment, self.plan, site_name)
                for inst in group.instances
            }
        return self._slurm_group_of[site_name][unit]

    def build(self) -> list[Rule]:
        for site in kubernetes_sites(self.experiment, self.plan):
            self.up_rule[site] = self._add(self._kube_rule(
                f"up_{site}", f"prepare Kubernetes site {site}", kubernetes.up_script(site), site,
                self.experiment.site(site).span,
            ))
        transfers_for: dict[str, list[Transfer]] = {}
        for transfer in self.plan.transfers:
            for consumer in transfer.consumers:
                transfers_for.setdefault(consumer, []).append(transfer)
        for assignment in self.plan.assignments:
            for transfer in transfers_for.get(assignment.unit, []):
                if transfer.id not in self.rule_of_transfer:
                    self.rule_of_transfer[transfer.id] = self._add(self._transfer_rule(transfer))
            if assignment.unit not in self.rule_of_unit:
                self._unit_rule(assignment.unit, assignment.site)
        for transfer in self.plan.transfers:  # any without a consumer in the plan
            if transfer.id not in self.rule_of_transfer:
                self.rule_of_transfer[transfer.id] = self._add(self._transfer_rule(transfer))
        self._link()
        return self.rules

    def _unit_rule(self, unit: str, site_name: str) -> None:
        kind = self.experiment.site(site_name).kind
        if kind == "local":
            self._local_rule(unit, site_name)
        elif kind == "slurm":
            self._slurm_rule(unit, site_name)
        else:
            self._kubernetes_rule(unit, site_name)

    def _local_rule(self, unit: str, site_name: str) -> None:
        # A service's rule runs again when its inputs changed (a new model):
        # `restart` brings it back on the same port with them.
        start = " restart" if _is_service(self.experiment, unit) else ""
        self.rule_of_unit[unit] = self._add(Rule(
            name=snake_rule(unit), comment=f"{unit} on the local site {site_name}",
            files=[("script", local.script_path(site_name, unit))],
            params=[Param("workdir", site_name, "workdir")],
            shell="MLC_WORKDIR={params.workdir:q} bash {input.script:q}" + start,
            span=unit_of(self.experiment, unit).span, retries=_retries(self.experiment, [unit]),
        ))

    def _slurm_rule(self, unit: str, site_name: str) -> None:
        """One rule per job group: it submits the whole array at once."""
        group = self._slurm_group(site_name, unit)
        members = [inst.id for inst in group.instances]
        rule = self._add(Rule(
            name=snake_rule(group.name),
            comment=f"stage {group.stage} on Slurm {site_name}.{group.pool.name}",
            files=[("script", slurm.script_path(site_name, group)), ("submit", slurm.SUBMIT_SCRIPT)],
            params=[Param("login", site_name, "login"),
                    Param("root", site_name, "scratch", join=self.experiment.name),
                    Param("site", site_name, value=site_name)],
            shell="MLC_SLURM_LOGIN={params.login:q} MLC_SLURM_ROOT={params.root:q} MLC_SLURM_SITE={params.site:q} "
                  "MLC_JOB_RECORD={params.record:q} bash {input.submit:q} {input.script:q}",
            span=group.instances[0].span, retries=_retries(self.experiment, members),
        ))
        # The record of the submitted job (`mlc status`, `mlc down`), named
        # after the rule's final name.
        rule.params.append(Param("record", site_name, value=f".mlc/jobs/{rule.name}"))
        for member in members:
            self.rule_of_unit[member] = rule

    def _kubernetes_rule(self, unit: str, site_name: str) -> None:
        """One rule per workload script (sweep members share an Indexed
        Job). No Snakemake retries: the Job's backoffLimit retries its pods."""
        script = kubernetes.run_script(self.experiment, self.plan, unit)
        rule = self._by_script.get(script)
        if rule is None:
            name = script.rsplit("/", 1)[-1].removeprefix("run-").removesuffix(".sh")
            rule = self._add(self._kube_rule(name, f"{name} on Kubernetes site {site_name}", script, site_name,
                                             unit_of(self.experiment, unit).span))
            self._by_script[script] = rule
        self.rule_of_unit[unit] = rule

    def _kube_rule(self, name: str, comment: str, script: str, site: str, span: Span) -> Rule:
        return Rule(
            name=snake_rule(name), comment=comment, files=[("script", script)],
            params=[Param("context", site, "context"), Param("namespace", site, "namespace")],
            shell="KUBE_CONTEXT={params.context:q} KUBE_NAMESPACE={params.namespace:q} bash {input.script:q}",
            span=span,
        )

    def _transfer_rule(self, transfer: Transfer) -> Rule:
        params, exports = [], []
        for side, site_name, path in (("source", transfer.source_site, transfer.path),
                                      ("target", transfer.target_site, transfer.target_path)):
            end = transfers.end(self.experiment, site_name, path)
            keys = {
                "local": [("root", "workdir", "")],
                "slurm": [("login", "login", ""), ("root", "scratch", self.experiment.name)],
                "kubernetes": [("context", "context", ""), ("namespace", "namespace", "")],
                "uri": [],
            }[end.kind]
            for setting, key, join in keys:
                params.append(Param(f"{side}_{setting}", site_name, key, join))
                exports.append(f"MLC_{side.upper()}_{setting.upper()}={{params.{side}_{setting}:q}}")
        return Rule(
            name=snake_rule(transfer.id),
            comment=f"move {transfer.what.label} from {transfer.source_site} to {transfer.target_site}",
            files=[("script", transfers.script_path(transfer))], params=params,
            shell=" ".join([*exports, "bash {input.script:q}"]), retries=TRANSFER_RETRIES,
            span=transfers.provenance(self.experiment, transfer),
        )

    def _link(self) -> None:
        """Each rule waits for the rules whose results it reads."""
        for unit, rule in self.rule_of_unit.items():
            site = self.plan.where(unit).site
            upstream = [self._source_rule(site, what) for what in _reads(self.experiment, unit)]
            upstream += [self.rule_of_unit[u] for u in _after(self.experiment, unit) if u in self.rule_of_unit]
            upstream.append(self.up_rule.get(site))
            self._depend(rule, upstream)
        for transfer in self.plan.transfers:
            upstream = [self._producer_rule(transfer.what)]
            upstream += [self.up_rule.get(site) for site in _file_system_ends(transfer)]
            self._depend(self.rule_of_transfer[transfer.id], upstream)

    def _source_rule(self, site: str, what: DataRef) -> Rule | None:
        """The rule that makes `what` available on `site`: the transfer
        that brings it there, else (same site) its producer."""
        transfer = self.plan.transfer_to(site, what)
        if transfer is not None:
            return self.rule_of_transfer[transfer.id]
        return self._producer_rule(what)

    def _producer_rule(self, what: DataRef) -> Rule | None:
        """The rule that writes `what` (none for a data set: it exists)."""
        return self.rule_of_unit.get(what.instance) if isinstance(what, OutputRef) else None

    @staticmethod
    def _depend(rule: Rule, upstream: list[Rule | None]) -> None:
        flags = {r.flag for r in upstream if r is not None and r is not rule}
        rule.after = sorted(set(rule.after) | flags)


def _reads(experiment: Experiment, unit: str) -> list[DataRef]:
    """What a unit reads, as Transfer.what names it."""
    reads: list[DataRef] = []
    for port in unit_of(experiment, unit).inputs:
        if port.dataset is not None:
            reads.append(DatasetRef(dataset=port.dataset))
        reads += [OutputRef(instance=producer, output=output) for producer, output in port.outputs]
    return reads


def _after(experiment: Experiment, unit: str) -> list[str]:
    return list(unit_of(experiment, unit).after)


def _retries(experiment: Experiment, units: list[str]) -> int:
    return max((experiment.instance(u).retries for u in units if not _is_service(experiment, u)), default=0)


def _is_service(experiment: Experiment, unit: str) -> bool:
    return any(s.name == unit for s in experiment.services)


def _file_system_ends(transfer: Transfer) -> list[str]:
    """The sites whose work tree a transfer reads or writes (an object-store
    URI is read where it is, not from its site's work tree)."""
    ends = [(transfer.source_site, transfer.path), (transfer.target_site, transfer.target_path)]
    return [site for site, path in ends if "://" not in path]


def used_sites(plan: Plan) -> set[str]:
    """Sites where a unit runs or whose work tree a transfer touches."""
    used = {a.site for a in plan.assignments}
    for transfer in plan.transfers:
        used.update(_file_system_ends(transfer))
    return used


def kubernetes_sites(experiment: Experiment, plan: Plan) -> list[str]:
    """The Kubernetes sites the workflow uses (their files must be emitted)."""
    used = used_sites(plan)
    return [s.name for s in experiment.sites if s.kind == "kubernetes" and s.name in used]


def emit(experiment: Experiment, plan: Plan) -> dict[str, str]:
    rules = _Builder(experiment, plan).build()
    return {
        "Snakefile": render(
            "Snakefile.j2", span=experiment.span, experiment=experiment.name, rules=rules,
            target=snake_literals.TARGET_RULE, rule_name=snake_literals.rule_name,
            file=snake_literals.file_literal, text=snake_literals.literal,
        ),
        "config.yaml": config_yaml(experiment, plan),
    }


def config_yaml(experiment: Experiment, plan: Plan) -> str:
    """Connection settings of every site the workflow touches."""
    used = used_sites(plan)
    sites = {}
    for site in experiment.sites:
        if site.name not in used:
            continue
        if site.kind == "local":
            settings = {"kind": "local", "workdir": local_workdir(site)}
        elif site.kind == "slurm":
            slurm_ = slurm_settings(site)
            settings = {"kind": "slurm", "login": slurm_.login or "", "scratch": slurm_.scratch}
        else:
            kube = kubernetes_settings(site)
            settings = {"kind": "kubernetes", "context": kube.context or "", "namespace": kube.namespace}
        for key, value in settings.items():
            snake_literals.refuse_nul(value, f"`{key}` of site `{site.name}`", site.span)
        sites[snake_literals.refuse_nul(site.name, "a site name", site.span)] = settings
    header = (
        f"# {generated_header(experiment.span)}\n"
        "# Site connection settings read by the Snakefile. A Slurm site's work root is\n"
        "# <scratch>/<experiment> (relative: to the home directory on the cluster); an\n"
        "# empty login runs sbatch on this machine. Prefer `snakemake --configfile\n"
        "# mine.yaml` to editing this file: `mlc compile` refuses to overwrite edits.\n"
    )
    document = {"experiment": snake_literals.refuse_nul(experiment.name, "the experiment name", experiment.span),
                "sites": sites}
    # ASCII only: with allow_unicode, PyYAML writes a NEL (U+0085) raw in a
    # single-quoted scalar, and reads it back as a line break.
    return header + yaml.safe_dump(document, sort_keys=True, allow_unicode=False, default_flow_style=False)
