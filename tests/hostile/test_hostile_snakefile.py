"""Hostile values in every field that reaches the Snakefile or config.yaml
(issue 18, class 2): site names, login hosts, work roots, Kubernetes
contexts, stage and instance names, the experiment's name. The generated
workflow is run by the real Snakemake, with every script replaced by a
recorder, and each value must arrive byte for byte in the environment of
the script that needs it; config.yaml must load back to the same values.
NUL cannot reach a command line: it is refused with a positioned error."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from compiler import ir
from compiler.backends import BackendError, emit, kubernetes, local, shipping, slurm, transfers
from compiler.backends.sites import local_workdir, slurm_root
from compiler.backends.writer import write_tree
from compiler.placement.plan import transfer_id
from compiler.sites import reach

GiB = 1024**3

# Pieces Snakemake, Python, YAML or a shell could read as syntax.
FRAGMENTS = [
    "{x}", "{{", "}}", "{", "}", "{params.context}", "{input}", "{0}", "{wildcards}", "%s",
    "'", '"', "\\", "\n", "\r", "\t", " ", "$(touch pwned)", "`touch pwned`", "${HOME}", ";", "#",
    "é", "🚀", "\u2028", "\x85", "if", "all", "None", "null", "~", "yes", "- ", ": ", "-rf", "*", "?",
]
hostile = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=4),
    ),
    min_size=1, max_size=6,
).map("".join).filter(bool)
# Names Snakemake or Python hold special, and names equal after folding.
SPECIAL_NAMES = ["all", "if", "None", "rules", "config", "workflow", "os", "lambda", "up_cloud",
                 "a.b", "a_b", "a b", "a-b", "_", "1st"]
unit_name = st.one_of(st.sampled_from(SPECIAL_NAMES), hostile)
# Kubernetes site names become directory names (k8s/<site>/) unfolded, as
# the language's names are identifiers; a namespace must be a DNS label.
identifier = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
dns_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


def _span(line: int) -> ir.Span:
    return ir.Span(file="exp.mlx", line=line, column=1, end_line=line, end_column=2)


def _unit(unit_id: str, stage: str, reads: tuple[str, str] | None, line: int) -> ir.StageInstance:
    inputs = [ir.Input(name="x", outputs=[reads], span=_span(line))] if reads else []
    return ir.StageInstance(
        id=unit_id, stage=stage, command=[ir.Text(text="true")], resources=ir.Resources(cpus=1, memory=GiB),
        estimate=ir.Estimate(default=1.0), inputs=inputs,
        outputs=[ir.Output(name="o", path=f"out/{line}.txt", span=_span(line))], span=_span(line),
    )


def build(names: dict[str, str], values: dict[str, str]) -> tuple[ir.Experiment, ir.Plan]:
    """A made on the local site, B on Slurm reading it, C on Kubernetes
    reading B: two transfers, and every kind of rule."""
    here, hpc, cloud = names["local"], names["slurm"], names["kube"]
    sites = [
        ir.Site(name=here, kind="local", local=ir.LocalSettings(workdir=values["workdir"]), span=_span(2),
                pools=[ir.Pool(name="default", site=here, nodes=1, cpus=2, memory=4 * GiB, span=_span(2))]),
        ir.Site(name=hpc, kind="slurm", slurm=ir.SlurmSettings(login=values["login"], scratch=values["scratch"]),
                span=_span(3), pools=[ir.Pool(name="cpu", site=hpc, nodes=1, cpus=2, memory=4 * GiB, span=_span(3))]),
        ir.Site(name=cloud, kind="kubernetes", span=_span(4),
                kubernetes=ir.KubernetesSettings(context=values["context"], namespace=values["namespace"],
                                                 staging="s3://staging/mlc"),
                pools=[ir.Pool(name="cpu", site=cloud, nodes=1, cpus=2, memory=4 * GiB, span=_span(4))]),
    ]
    a, b, c = names["a"], names["b"], names["c"]
    units = [_unit(a, names["stage_a"], None, 10), _unit(b, names["stage_b"], (a, "o"), 20),
             _unit(c, names["stage_c"], (b, "o"), 30)]
    stages = [ir.StageGroup(name=u.stage, instances=[u.id], span=u.span) for u in units]
    experiment = ir.Experiment(
        name=names["experiment"], source="exp.mlx", sources=["exp.mlx"], objective=ir.Objective(),
        sites=sites, instances=units, stages=stages, span=_span(1),
    )
    where = [(a, here, "default"), (b, hpc, "cpu"), (c, cloud, "cpu")]
    assignments = [ir.Assignment(unit=u, site=s, pool=p, start=10.0 * i, finish=10.0 * i + 5)
                   for i, (u, s, p) in enumerate(where)]
    moves = []
    for (producer, source, _), (consumer, target, _) in zip(where, where[1:]):
        what = ir.OutputRef(instance=producer, output="o")
        path = experiment.instance(producer).outputs[0].path
        moves.append(ir.Transfer(id=transfer_id(target, what), source_site=source, target_site=target, what=what,
                                 path=path, target_path=path, consumers=[consumer],
                                 route=reach.route(experiment, source, target, path)))
    plan = ir.Plan(objective=experiment.objective, assignments=assignments, transfers=moves, algorithm="by hand")
    return experiment, plan


def expected_environments(experiment: ir.Experiment, plan: ir.Plan, names: dict[str, str]) -> dict[str, dict]:
    """Script path -> the settings its rule must hand it."""
    here, hpc, cloud = (experiment.site(names[k]) for k in ("local", "slurm", "kube"))
    workdir, root = local_workdir(here), slurm_root(experiment, hpc)
    login, kube = hpc.slurm.login, cloud.kubernetes
    first, second = plan.transfers
    return {
        local.script_path(here.name, names["a"]): {"MLC_WORKDIR": workdir},
        slurm.SUBMIT_SCRIPT: {"MLC_SLURM_LOGIN": login, "MLC_SLURM_ROOT": root, "MLC_SLURM_SITE": hpc.name,
                              "MLC_RETRIES": "0"},
        # KUBE_RUN and KUBE_OVERLAY: config.yaml's run identity and overlay, empty by default.
        kubernetes.up_script(cloud.name): {"KUBE_CONTEXT": kube.context, "KUBE_NAMESPACE": kube.namespace,
                                           "KUBE_RUN": "", "KUBE_OVERLAY": ""},
        kubernetes.run_script(experiment, plan, names["c"]): {"KUBE_CONTEXT": kube.context,
                                                              "KUBE_NAMESPACE": kube.namespace,
                                                              "KUBE_RUN": "", "KUBE_OVERLAY": ""},
        # The result cache shipped to the cluster, and the job's cache notes brought back.
        shipping.cache_script(hpc): {"MLC_TARGET_LOGIN": login, "MLC_TARGET_ROOT": root},
        shipping.cache_script(cloud): {"MLC_TARGET_CONTEXT": kube.context, "MLC_TARGET_NAMESPACE": kube.namespace,
                                       "MLC_TARGET_RUN": ""},
        slurm.NOTES_SCRIPT: {"MLC_SLURM_LOGIN": login, "MLC_SLURM_ROOT": root},
        transfers.script_path(first): {"MLC_SOURCE_ROOT": workdir, "MLC_TARGET_LOGIN": login,
                                       "MLC_TARGET_ROOT": root},
        transfers.script_path(second): {"MLC_SOURCE_LOGIN": login, "MLC_SOURCE_ROOT": root,
                                        "MLC_TARGET_CONTEXT": kube.context, "MLC_TARGET_NAMESPACE": kube.namespace,
                                        "MLC_TARGET_RUN": ""},
    }


RECORDER = """#!/usr/bin/env bash
exec python3 -c '
import json, os, sys
env = {k: v for k, v in os.environ.items() if k.startswith(("MLC_", "KUBE_")) and k != "MLC_RECORD"}
with open(os.environ["MLC_RECORD"], "a", encoding="utf-8") as f:
    f.write(json.dumps({"script": sys.argv[1], "env": env}) + "\\n")
# A local stage declares its results as Snakemake outputs: write them all
# (results.json lists them), as the real scripts would.
if "MLC_WORKDIR" in os.environ:
    for rule in json.load(open("results.json", encoding="utf-8"))["rules"].values():
        for path in rule["outputs"]:
            path = os.path.join(os.environ["MLC_WORKDIR"], path)
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            open(path, "a").close()
' "$0"
"""


def run_with_recorders(files: dict[str, str], folder: Path) -> list[dict]:
    """Write the folder, replace every script by a recorder, run Snakemake."""
    write_tree(folder, files)
    for path in files:
        if path.endswith((".sh", ".sbatch")):
            (folder / path).write_text(RECORDER, encoding="utf-8")
            (folder / path).chmod(stat.S_IRWXU)
    record = folder / "record.jsonl"
    result = subprocess.run(
        ["snakemake", "--cores", "1", "--quiet", "all"], cwd=folder, capture_output=True, text=True, timeout=300,
        # Only what the Snakefile sets may be recorded: the test run's own
        # MLC_* / KUBE_* settings (MLC_REQUIRE_SLURM, ...) are left out.
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("MLC_", "KUBE_"))},
             "MLC_RECORD": str(record)}, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]


def check_workflow(names: dict[str, str], values: dict[str, str], folder: Path) -> None:
    experiment, plan = build(names, values)
    files = emit(experiment, plan)
    expected = expected_environments(experiment, plan, names)

    config = yaml.safe_load(files["config.yaml"])
    assert config == {"experiment": names["experiment"], "sites": {
        names["local"]: {"kind": "local", "workdir": local_workdir(experiment.site(names["local"]))},
        names["slurm"]: {"kind": "slurm", "login": values["login"], "scratch": values["scratch"]},
        names["kube"]: {"kind": "kubernetes", "context": values["context"], "namespace": values["namespace"],
                        "run": "", "overlay": ""},
    }}

    seen = {}
    for entry in run_with_recorders(files, folder):
        env = entry["env"]
        if entry["script"] == slurm.SUBMIT_SCRIPT:  # the job record is named after its rule
            assert env.pop("MLC_JOB_RECORD").startswith(".mlc/jobs/")
        seen[entry["script"]] = env
    assert seen == expected


FIXED_NAMES = {"local": "here", "slurm": "hpc", "kube": "cloud", "experiment": "exp",
               "a": "make", "b": "fit", "c": "serve", "stage_a": "make", "stage_b": "fit", "stage_c": "serve"}
FIXED_VALUES = {"workdir": "work", "login": "login.example", "scratch": "scratch", "context": "ctx",
                "namespace": "ns"}


@pytest.mark.parametrize("field", ["context", "login", "scratch", "workdir"])
def test_braces_in_a_setting_reach_the_script_unformatted(field, tmp_path):
    """A kube context `{x}` made the Snakefile fail with a WildcardError."""
    check_workflow(FIXED_NAMES, {**FIXED_VALUES, field: "a{x}b {{y}} }"}, tmp_path)


def test_a_stage_named_all_does_not_collide_with_the_target_rule(tmp_path):
    check_workflow({**FIXED_NAMES, "a": "all", "stage_a": "all"}, FIXED_VALUES, tmp_path)


# Each example runs Snakemake (about 3 s): a dozen per run, new ones each run.
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sites=st.lists(st.one_of(hostile, st.sampled_from(SPECIAL_NAMES)), min_size=2, max_size=2, unique=True),
    kube=identifier, experiment=st.one_of(hostile, identifier),
    units=st.lists(unit_name, min_size=3, max_size=3, unique=True), stages=st.lists(unit_name, min_size=3, max_size=3),
    login=hostile, scratch=hostile, workdir=hostile, context=hostile, namespace=dns_label,
)
@example(sites=["all", "a.b"], kube="a_b", experiment="{x}", units=["all", "if", "up_a_b"],
         stages=["all", "{wildcards}", "x"], login="{x}", scratch="{{", workdir="}}", context="{x}", namespace="ns")
# A character beyond U+FFFF (JSON would write a surrogate pair, two
# characters to Python), and line separators YAML or Python could split on.
@example(sites=["None{x}", "{x}{x}{x}"], kube="A", experiment="*\u2028{x}\U000d132e", units=["all", "{x}", "a b"],
         stages=["lambda", "all", "if"], login="a\x85b", scratch="\u2029", workdir="\r\n", context="{x}\U0001f680",
         namespace="0")
def test_hostile_values_survive_the_snakefile_byte_for_byte(
    sites, kube, experiment, units, stages, login, scratch, workdir, context, namespace, tmp_path_factory,
):
    assume(kube not in sites)
    names = {"local": sites[0], "slurm": sites[1], "kube": kube, "experiment": experiment,
             "a": units[0], "b": units[1], "c": units[2],
             "stage_a": stages[0], "stage_b": stages[1], "stage_c": stages[2]}
    assume(len(set(stages)) == 3)
    values = {"login": login, "scratch": scratch, "workdir": workdir, "context": context, "namespace": namespace}
    check_workflow(names, values, tmp_path_factory.mktemp("hostile-snakefile"))


@pytest.mark.parametrize("field", ["context", "login", "scratch", "workdir"])
def test_nul_in_a_setting_is_refused_at_its_site(field):
    experiment, plan = build(FIXED_NAMES, {**FIXED_VALUES, field: "a\0b"})
    site = {"context": "cloud", "login": "hpc", "scratch": "hpc", "workdir": "here"}[field]
    with pytest.raises(BackendError, match="NUL") as raised:
        emit(experiment, plan)
    assert raised.value.span == experiment.site(site).span


@pytest.mark.parametrize("name", ["local", "slurm", "experiment"])
def test_nul_in_a_name_is_refused(name):
    experiment, plan = build({**FIXED_NAMES, name: "a\0b"}, FIXED_VALUES)
    with pytest.raises(BackendError, match="NUL") as raised:
        emit(experiment, plan)
    assert raised.value.span is not None


def test_a_file_name_with_braces_is_refused_not_written():
    """Snakemake has no escape for a brace in a file name; a Kubernetes
    site's folder is named as the site is (the language's names never hold
    braces, an IR built by hand may)."""
    experiment, plan = build({**FIXED_NAMES, "kube": "c{x}"}, FIXED_VALUES)
    with pytest.raises(BackendError, match="braces") as raised:
        emit(experiment, plan)
    assert raised.value.span is not None
