"""One test per language construct: a small program in, the IR it lowers to."""

from __future__ import annotations

import textwrap

import pytest

from compiler import ir
from compiler.frontend import load
from compiler.diagnostics import render_text

SITES = """
site hpc : slurm {
  login = "login.example.org"
  account = "proj"
  modules = ["apptainer", "cuda/12.2"]
  partition gpu { nodes = 2; cpus = 48; memory = 768GiB; gpus = 4 x a100; max_time = 72h }
  partition cpu { nodes = 4; cpus = 48; memory = 384GiB; max_time = 24h; speed = 2.0 }
}
site cloud : kubernetes {
  context = "ctx"; namespace = "ml"
  pool gpu { nodes = 2; cpus = 16; memory = 64GiB; gpus = 1 x t4; price = 1.2/h
             selector = {"pool": "gpu"}; tolerations = ["gpu=yes:NoSchedule"] }
}
site ws : local { cpus = 8; memory = 32GiB }
"""


def spelled(command: list) -> str:
    """A command with each value shown as `<name=value>`."""
    return "".join(p.text if isinstance(p, ir.Text) else f"<{p.name}={p.value}>" for p in command)


def compile_text(tmp_path, text: str, overrides=None, files=None) -> ir.Experiment:
    for name, body in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(body))
    path = tmp_path / "exp.mlx"
    path.write_text(textwrap.dedent(text))
    experiment, diags, sources = load(str(path), overrides)
    assert experiment is not None, render_text(diags.sorted(), sources)
    return experiment


def errors_of(tmp_path, text: str) -> list[str]:
    path = tmp_path / "exp.mlx"
    path.write_text(textwrap.dedent(text))
    experiment, diags, _ = load(str(path))
    return [d.code for d in diags.sorted()]


def test_experiment_and_objectives(tmp_path):
    e = compile_text(tmp_path, 'experiment e { description = "d"; objective = cost; deadline = 2h; budget = 10 }'
                     '\nstage a { run = "true" }')
    assert (e.name, e.description) == ("e", "d")
    assert e.objective.kind == "cost" and e.objective.deadline == 7200 and e.objective.budget == 10
    e = compile_text(tmp_path, "experiment e { objective = weighted(time = 2, cost = 0.5) }\nstage a { run = \"true\" }")
    assert (e.objective.kind, e.objective.time_weight, e.objective.cost_weight) == ("weighted", 2.0, 0.5)


def test_experiment_name_defaults_to_file_stem(tmp_path):
    assert compile_text(tmp_path, 'stage a { run = "true" }').name == "exp"


def test_params_and_overrides(tmp_path):
    src = 'param epochs: int = 12\nparam lrs: list[float] = [0.1, 0.2]\nparam mem: size = 4GiB\n' \
          'param model: str = "tiny"\nstage a { memory = mem; run = "train ${model} --epochs ${epochs}" }'
    e = compile_text(tmp_path, src)
    assert e.params == {"epochs": 12, "lrs": [0.1, 0.2], "mem": 4 * 1024**3, "model": "tiny"}
    assert e.instances[0].resources.memory == 4 * 1024**3
    e = compile_text(tmp_path, src, {"epochs": "3", "model": "big net", "mem": "1GiB"})
    assert e.params["epochs"] == 3 and e.params["model"] == "big net"
    assert spelled(e.instances[0].command) == "train <model=big net> --epochs <epochs=3>"


def test_sites_pools_and_links(tmp_path):
    e = compile_text(tmp_path, SITES + 'link hpc <-> cloud { bandwidth = 1Gbps; latency = 20ms; egress = 0.01/GB }\n'
                     'link ws -> hpc { bandwidth = 100MB/s }\nstage a { run = "true" }')
    hpc = e.site("hpc")
    assert hpc.kind == "slurm" and hpc.slurm.login == "login.example.org"
    assert hpc.slurm.modules == ["apptainer", "cuda/12.2"]
    gpu = e.pool("hpc.gpu")
    assert (gpu.nodes, gpu.cpus, gpu.memory, gpu.max_time) == (2, 48, 768 * 1024**3, 72 * 3600)
    assert gpu.gpus == ir.Gpus(count=4, type="a100")
    assert e.pool("hpc.cpu").speed == 2.0
    pool = e.pool("cloud.gpu")
    assert pool.price == 1.2 and pool.selector == {"pool": "gpu"} and pool.tolerations == ["gpu=yes:NoSchedule"]
    assert e.site("cloud").kubernetes.namespace == "ml"
    assert e.pool("ws.local").cpus == 8
    sym, directed = e.links
    assert sym.symmetric and sym.bandwidth == 1e9 / 8 and sym.latency == 0.02 and sym.egress == 0.01
    assert not directed.symmetric and directed.bandwidth == 100e6


def test_implicit_local_site(tmp_path):
    e = compile_text(tmp_path, 'stage a { run = "true" }')
    assert [s.name for s in e.sites] == ["local"] and e.sites[0].implicit


def test_imports_relative_to_the_importer(tmp_path):
    e = compile_text(tmp_path, 'import "catalog/sites.mlx"\nstage a { on = ws; run = "true" }',
                     files={"catalog/sites.mlx": 'import "more.mlx"\nsite ws : local { cpus = 2; memory = 2GiB }',
                            "catalog/more.mlx": "// nothing but a comment\n"})
    assert [s.name for s in e.sites] == ["ws"]
    assert len(e.sources) == 3


def test_dataset_and_inputs(tmp_path):
    e = compile_text(tmp_path, SITES + 'dataset coco { uri = "s3://b/coco"; size = 25GB; at = cloud }\n'
                     'stage a { in raw = coco; in cfg = file("configs/a.py"); out d = dir("data", size = 1GB)\n'
                     '  run = "prep ${in.raw} ${in.cfg} ${out.d}" }\n'
                     'stage b { in d = a.d; run = "use ${in.d}" }', files={"configs/a.py": ""})
    a, b = e.instances
    assert a.inputs[0].dataset == "coco" and a.inputs[1].source.path == "configs/a.py"
    assert a.outputs[0] == ir.Output(name="d", path="data", kind="dir", size=10**9, span=a.outputs[0].span)
    assert b.inputs[0].outputs == [("a", "d")]
    assert [(x.source, x.target, x.size) for x in e.edges] == [("coco", "a", 25 * 10**9), ("a", "b", 10**9)]


def test_secrets_are_referenced(tmp_path):
    e = compile_text(tmp_path, 'secret tok { kubernetes = "creds/token"; env = "TOKEN" }\n'
                     'stage a { env = {TOKEN: tok, MODE: "fast", N: 3}; run = "true" }')
    assert e.secrets[0].kubernetes == ("creds", "token") and e.secrets[0].env == "TOKEN"
    env = e.instances[0].env
    assert env["TOKEN"] == ir.SecretEnv(secret="tok")
    assert env["MODE"] == ir.LiteralEnv(value="fast") and env["N"] == ir.LiteralEnv(value="3")


def test_template_with_defaults_and_override(tmp_path):
    e = compile_text(tmp_path, 'template T(model: str, lr: float, epochs: int = 12) : stage {\n'
                     '  cpus = 4; memory = 8GiB\n  run = "train ${model} ${lr} ${epochs}"\n}\n'
                     'stage a : T("m", lr = 1) { cpus = 2 }')
    a = e.instances[0]
    assert a.template == "T" and a.resources.cpus == 2 and a.resources.memory == 8 * 1024**3
    assert spelled(a.command) == "train <model=m> <lr=1> <epochs=12>"  # a value prints as the user wrote it


def test_sweep_expands_to_instances(tmp_path):
    e = compile_text(tmp_path, 'param bs: list[int] = [16, 32]\n'
                     'stage t for lr in [0.1, 0.01], b in bs { out m = file("w/${lr}/${b}.pt"); run = "t ${lr} ${b}" }')
    assert [i.id for i in e.instances] == ["t[lr=0.1,b=16]", "t[lr=0.1,b=32]", "t[lr=0.01,b=16]", "t[lr=0.01,b=32]"]
    assert [i.index for i in e.instances] == [0, 1, 2, 3]
    assert e.instances[3].sweep == {"lr": 0.01, "b": 32}
    assert e.instances[3].outputs[0].path == "w/0.01/32.pt"
    assert e.stages[0].instances == [i.id for i in e.instances] and e.stages[0].sweep_axes == ["lr", "b"]


def test_sweep_fan_in(tmp_path):
    e = compile_text(tmp_path, 'stage t for s in [1, 2] { out m = file("m${s}"); run = "t" }\n'
                     'stage pick { in all = t.m; run = "pick ${in.all}" }')
    assert e.instances[-1].inputs[0].outputs == [("t[s=1]", "m"), ("t[s=2]", "m")]


def test_service(tmp_path):
    e = compile_text(tmp_path, SITES + 'stage a { out m = file("m"); run = "true" }\n'
                     'service api { image = "docker://srv"; in model = a.m; replicas = 2; port = 8080\n'
                     '  health = "/healthz"; gpus = 1; on = cloud; run = "serve ${in.model}" }')
    s = e.services[0]
    assert (s.replicas, s.port, s.health, s.on) == (2, 8080, "/healthz", ["cloud"])
    assert s.resources.gpus == ir.Gpus(count=1)
    assert s.inputs[0].outputs == [("a", "m")]


def test_pins_exclusions_after_retries_estimates(tmp_path):
    e = compile_text(tmp_path, SITES + 'stage a { run = "true" }\n'
                     'stage b { after = [a]; on = [hpc.gpu, cloud]; not_on = ws; retries = 2\n'
                     '  gpus = 1; time = 2h; estimate = {a100: 1h, "hpc.gpu": 50m, cloud: 3h}; run = "true" }')
    b = e.instances[1]
    assert b.after == ["a"] and b.on == ["cloud", "hpc.gpu"] and b.not_on == ["ws"] and b.retries == 2
    assert b.estimate.by_key == {"a100": 3600, "cloud": 10800, "hpc.gpu": 3000} and b.estimate.stated
    a = e.instances[0]
    assert not a.estimate.stated and a.estimate.default == a.resources.time / 2


def test_strings_escapes_and_interpolation(tmp_path):
    e = compile_text(tmp_path, 'param n: int = 3\n'
                     'stage a { run = "echo \\"q\\" $HOME $$HOME $${n} ${n} tab\\tend" }')
    assert spelled(e.instances[0].command) == 'echo "q" $HOME $HOME ${n} <n=3> tab\tend'


def test_multi_line_run_is_dedented(tmp_path):
    e = compile_text(tmp_path, 'stage a {\n  run = """\n    line one\n      indented\n    line three\n  """\n}')
    assert e.instances[0].command == [ir.Text(text="line one\n  indented\nline three")]


def test_interpolated_values_stay_values_in_run(tmp_path):
    e = compile_text(tmp_path, 'param msg: str = "it\'s $(rm -rf /)"\nstage a { run = "echo ${msg}" }')
    assert [p.model_dump(exclude={"span"}) for p in e.instances[0].command] == [
        {"kind": "text", "text": "echo "}, {"kind": "value", "name": "msg", "value": "it's $(rm -rf /)"}]


def test_comments_and_semicolons(tmp_path):
    e = compile_text(tmp_path, '// a comment\nstage a { cpus = 2; // trailing\n  run = "x // not a comment" ; }\n;')
    assert e.instances[0].command == [ir.Text(text="x // not a comment")]


def test_units(tmp_path):
    e = compile_text(tmp_path, 'stage a { memory = 1.5GiB; time = 90m; estimate = 1d; run = "true" }')
    r = e.instances[0].resources
    assert r.memory == int(1.5 * 1024**3) and r.time == 5400 and e.instances[0].estimate.default == 86400


def test_topological_order_is_source_order_among_ready(tmp_path):
    e = compile_text(tmp_path, 'stage c { in x = b.o; run = "t" }\nstage b { out o = file("o"); run = "t" }\n'
                     'stage a { run = "t" }')
    assert [i.id for i in e.instances] == ["b", "c", "a"]


@pytest.mark.parametrize("snippet, code", [
    ('stage a { memory = 8h; run = "x" }', "E0305"),
    ('stage a { cpus = 0; run = "x" }', "E0306"),
    ('stage a { run = "x"; after = [a] }', "E0601"),
    ('stage a { env = {"1x": "v"}; run = "x" }', "E0306"),
    ('secret s { }\nstage a { run = "x" }', "E0302"),
])
def test_small_errors(tmp_path, snippet, code):
    assert code in errors_of(tmp_path, snippet)


def test_all_errors_reported_at_once(tmp_path):
    codes = errors_of(tmp_path, 'stage a { memory = 8h; cpus = "x"; memroy = 1; run = "${nope}" }\n'
                      'stage b { in x = a.missing; run = "t" }')
    assert {"E0305", "E0303", "E0301", "E0503"} <= set(codes)


def test_ssh_site_the_issue_writes(tmp_path):
    e = compile_text(tmp_path, 'site lab : ssh { host = "gpu-box.lab"; cpus = 16; memory = 64GiB; '
                     'gpus = 2 x rtx4090; workdir = "mlc-work" }\nstage a { on = lab; run = "true" }')
    (lab,) = e.sites
    assert lab.kind == "ssh" and lab.ssh == ir.SshSettings(host="gpu-box.lab", workdir="mlc-work")
    (pool,) = lab.pools
    assert (pool.cpus, pool.memory, pool.gpus.count, pool.gpus.type) == (16, 64 * 1024**3, 2, "rtx4090")
    assert e.instances[0].on == ["lab"]


def test_ssh_site_needs_a_host_and_has_no_pools(tmp_path):
    no_host = 'site lab : ssh { cpus = 2; memory = 2GiB }\nstage a { on = lab; run = "true" }'
    assert errors_of(tmp_path, no_host) == ["E0302"]  # a diagnostic, not a traceback
    with_pool = 'site lab : ssh { host = "h"; cpus = 2; memory = 2GiB\n  partition p { nodes = 1 } }'
    assert "E0309" in errors_of(tmp_path, with_pool)
