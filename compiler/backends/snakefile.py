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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..ir import DataRef, DatasetRef, Experiment, OutputRef, Plan, Span, Transfer
from ..sites import registry
from . import capacity, publishing, result_index, service_stops, shipping, snake_literals, transfers
from .commands import unit_of
from .naming import snake_rule
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
    python: str | None = None  # a name the Snakefile defines (PROJECT), instead of either

    def source(self, span: Span) -> str:
        """The parameter as Snakefile source."""
        if self.python is not None:
            return snake_literals.param_function(self.python)
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
    # Flags among `after` whose age does not matter: a service started again
    # (after `mlc down`, or because it died) does not redo its finished consumers.
    ancient: list[str] = field(default_factory=list)
    project_files: list[str] = field(default_factory=list)  # inputs in the project (relative to it)
    outputs: list[tuple[str, bool]] = field(default_factory=list)  # results Snakemake can see: (source, is a dir)
    threads: int | None = None  # None: Snakemake's default; see capacity.py
    resources: dict[str, int] = field(default_factory=dict)

    @property
    def flag(self) -> str:
        return f".mlc/done/{self.name}"

    @property
    def log(self) -> str:
        return f".mlc/logs/{self.name}.log"


class StepBuilder:
    """Collects the rules in a readable order: for each unit in plan order,
    the transfers it waits for, then the rule that runs it."""

    def __init__(self, experiment: Experiment, plan: Plan) -> None:
        self.experiment = experiment
        self.plan = plan
        self.rules: list[Rule] = []
        self.rule_of_unit: dict[str, Rule] = {}
        self.rule_of_transfer: dict[str, Rule] = {}
        self.up_rule: dict[str, Rule] = {}
        self.code_rules: dict[str, list[Rule]] = {}  # site -> the steps that bring it project paths
        # site -> project path -> the step that ships it, for kinds with a step per path
        self.ship_rule_of: dict[str, dict[str, Rule]] = {}
        self.cache_rules: set[str] = set()  # among them, the steps that ship the step cache
        self._names: set[str] = {snake_literals.TARGET_RULE}
        self._memo: dict[tuple, Any] = {}

    def memo(self, key: tuple, make: Callable[[], Any]) -> Any:
        """What a site kind computes once per workflow (keyed by its own
        tuple), not once per unit."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def cache_steps(self, site: str) -> list[Rule]:
        """The steps that ship the step cache to `site`, among its ship
        steps (asked while linking, once every ship step is made): found
        once per site, not by a walk of a thousand ship steps per unit."""
        return self.memo(("cache steps", site),
                         lambda: [r for r in self.code_rules.get(site, []) if r.name in self.cache_rules])

    def is_service(self, unit: str) -> bool:
        return _is_service(self.experiment, unit)

    def retries(self, units: list[str]) -> int:
        return _retries(self.experiment, units)

    def add(self, rule: Rule) -> Rule:
        """Adds a rule under a unique name (a suffix when taken)."""
        base, suffix = rule.name, 2
        while rule.name in self._names:
            rule.name = f"{base}_{suffix}"
            suffix += 1
        self._names.add(rule.name)
        rule.shell = _recorded(rule.shell, rule.name)  # the name is final now
        self.rules.append(rule)
        return rule

    def build(self) -> list[Rule]:
        used = used_sites(self.plan)
        for site in self.experiment.sites:
            setup = registry.of(site).setup_step(self, site) if site.name in used else None
            if setup is not None:
                self.up_rule[site.name] = setup
        self.code_rules = shipping.add_steps(self)
        transfers_for: dict[str, list[Transfer]] = {}
        for transfer in self.plan.transfers:
            for consumer in transfer.consumers:
                transfers_for.setdefault(consumer, []).append(transfer)
        for assignment in self.plan.assignments:
            for transfer in transfers_for.get(assignment.unit, []):
                if transfer.id not in self.rule_of_transfer:
                    self.rule_of_transfer[transfer.id] = self.add(self._transfer_rule(transfer))
            if assignment.unit not in self.rule_of_unit:
                self._unit_rule(assignment.unit, assignment.site)
        for transfer in self.plan.transfers:  # any without a consumer in the plan
            if transfer.id not in self.rule_of_transfer:
                self.rule_of_transfer[transfer.id] = self.add(self._transfer_rule(transfer))
        publishing.add_steps(self)
        self._link()
        service_stops.add(self)
        self._hold_capacity()
        return self.rules

    def _hold_capacity(self) -> None:
        """Each unit rule declares what it holds of its site (capacity.py)."""
        units_of: dict[str, list[str]] = {}
        for unit, rule in self.rule_of_unit.items():
            units_of.setdefault(rule.name, []).append(unit)
        for rule in self.rules:
            if rule.name in units_of:
                site = self.experiment.site(self.plan.where(units_of[rule.name][0]).site)
                rule.threads, rule.resources = capacity.step_holds(self.experiment, site, units_of[rule.name])

    def _unit_rule(self, unit: str, site_name: str) -> None:
        site = self.experiment.site(site_name)
        registry.of(site).unit_step(self, unit, site)

    def _transfer_rule(self, transfer: Transfer) -> Rule:
        params, exports = [], []
        for side, site_name, path in (("source", transfer.source_site, transfer.path),
                                      ("target", transfer.target_site, transfer.target_path)):
            end = transfers.end(self.experiment, site_name, path)
            keys = [] if end.is_uri else registry.kind(end.kind).transfer_params(self.experiment)
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
            upstream += shipping.steps_for(self, site, unit)
            self._depend(rule, upstream)
            # A new copy of the step cache changes no result: it need not redo finished steps.
            rule.ancient = sorted(set(rule.ancient) | {r.flag for r in self.cache_steps(site)})
            service_stops.started_any_time(self, unit, rule)
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
    """Units `unit` waits for without reading their data: `after`, and the
    services it uses (their rule starts them and waits until they answer)."""
    target = unit_of(experiment, unit)
    return [*target.after, *(port.service for port in target.inputs if port.service is not None)]


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


def emit(experiment: Experiment, plan: Plan) -> dict[str, str]:
    builder = StepBuilder(experiment, plan)
    rules = builder.build()
    return {
        **result_index.emit(experiment, plan, builder.rule_of_unit),
        "Snakefile": render(
            "Snakefile.j2", span=experiment.span, experiment=experiment.name, rules=rules,
            project=any(rule.project_files for rule in rules), project_record=shipping.PROJECT_RECORD,
            target=snake_literals.TARGET_RULE, rule_name=snake_literals.rule_name,
            file=snake_literals.file_literal, text=snake_literals.literal,
        ),
        "config.yaml": config_yaml(experiment, plan),
        **capacity.profile(experiment, plan, used_sites(plan)),
    }


def config_yaml(experiment: Experiment, plan: Plan) -> str:
    """Connection settings of every site the workflow touches."""
    used = used_sites(plan)
    sites = {}
    for site in experiment.sites:
        if site.name not in used:
            continue
        settings = {"kind": site.kind, **registry.of(site).config(experiment, site)}
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
