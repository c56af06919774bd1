"""Hostile values: names that are not DNS-1123 labels, environment values
with quotes, newlines and `$(...)` — they must come out valid and intact."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import k8s_builders
import yaml
from conftest import manifests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes_validate import validate
from kubernetes_validate.utils import latest_version

from compiler import ir
from compiler.backends.kubernetes import emit_site
from compiler.backends.kubernetes.pod_commands import cached_command
from tests.backends.kubernetes.kubelet import expand

DNS1123 = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# Anything a POSIX environment can hold: no NUL, no lone surrogates.
ENV_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=200)


def _names(objects: dict[str, dict]) -> list[str]:
    return [obj["metadata"]["name"] for obj in objects.values() if obj["kind"] != "Namespace"]


def test_awkward_names_become_distinct_dns1123_names_and_validate():
    stage_names = ["Train", "train", "train_", "ОБУЧЕНИЕ", "x" * 200, "x" * 199 + "y", "a.b"]
    experiment, plan = k8s_builders.sweep_on_cloud(stage_names, experiment_name="Ünïcode_EXP" + "e" * 80)
    files = emit_site(experiment, plan, "cloud")
    objects = manifests(files)
    jobs = [obj for obj in objects.values() if obj["kind"] == "Job"]
    components = sorted(job["metadata"]["labels"]["app.kubernetes.io/component"] for job in jobs)
    # The results check and the result cache's copy beside the stages.
    assert components == ["check", *["stage"] * len(stage_names), "transfer"]
    names = _names(objects)
    assert len(set(names)) == len(names)
    for name in names:
        assert DNS1123.fullmatch(name) and len(name) <= 63, name
    for obj in objects.values():
        for key, value in obj["metadata"].get("labels", {}).items():
            assert DNS1123.fullmatch(value) or value == "mlc", (key, value)
        validate(obj, latest_version(), strict=True)
    run_scripts = [path for path in files if "/run-" in path]
    assert len(run_scripts) == len(stage_names)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=ENV_TEXT)
def test_env_values_survive_the_yaml_round_trip(value: str):
    env = {"WANDB_PROJECT": ir.LiteralEnv(value=value), "WANDB_API_KEY": ir.SecretEnv(secret="wandb")}
    experiment, plan = k8s_builders.rtmdet(train_env=env)
    job = yaml.safe_load(emit_site(experiment, plan, "cloud")["k8s/cloud/rtmdet-train-job.yaml"])
    (main,) = job["spec"]["template"]["spec"]["containers"]
    # Doubled `$`: the kubelet gives the value back as written.
    assert {"name": "WANDB_PROJECT", "value": value.replace("$", "$$")} in main["env"]
    assert expand(value.replace("$", "$$"), {"HOME": "/tmp"}) == value


# `$(HOME)` and `$$`: what the kubelet itself would rewrite, had the manifest not doubled every `$`.
HOSTILE = ["it's \"quoted\"", "two\nlines\n", "$(touch pwned) `id` ${HOME}", "tab\tand ; | & < >", "λ ünï 🚀", " ",
           "$(HOME) and $$"]
KUBELET_ENV = {"HOME": "/tmp", "MLC_RUN": "bob"}  # variables every stage pod defines


def test_per_index_env_values_reach_the_running_command_intact(tmp_path: Path):
    """The pod script of an Indexed Job run for real by /bin/sh, as the
    container would run it: each index sees exactly its own value."""
    command = [k8s_builders.text('printf %s "$TAG" > '), k8s_builders.port("out", "result")]
    env = [{"TAG": ir.LiteralEnv(value=value)} for value in HOSTILE]
    experiment, plan = k8s_builders.sweep_on_cloud(["probe"], command=command, env=env)
    job = yaml.safe_load(emit_site(experiment, plan, "cloud")["k8s/cloud/tiny-probe-job.yaml"])
    (main,) = job["spec"]["template"]["spec"]["containers"]
    assert job["spec"]["completions"] == len(HOSTILE)
    for index, value in enumerate(HOSTILE):
        subprocess.run(
            [*main["command"], *(expand(arg, KUBELET_ENV) for arg in main["args"])], cwd=tmp_path, check=True,
            env={"JOB_COMPLETION_INDEX": str(index), "PATH": "/usr/bin:/bin"},
        )
        assert (tmp_path / f"out/0/{index}.txt").read_text() == value
    assert not (tmp_path / "pwned").exists()
    missing = subprocess.run([*main["command"], *map(expand, main["args"])], cwd=tmp_path, env={"JOB_COMPLETION_INDEX": "99"})
    assert missing.returncode == 64


def test_commands_with_shell_metacharacters_round_trip_through_yaml():
    script = "python - <<'PY'\nprint(\"a: b # not a comment\")\nPY\necho '$(x)'  \n\ttrailing\\\n"
    experiment, plan = k8s_builders.sweep_on_cloud(["s"], command=[k8s_builders.text(script)], env=[{}])
    job = yaml.safe_load(emit_site(experiment, plan, "cloud")["k8s/cloud/tiny-s-job.yaml"])
    (main,) = job["spec"]["template"]["spec"]["containers"]
    assert expand(main["args"][0]).endswith("\ncommand=" + shlex.quote(script) + f"\n{cached_command()}"
                                    '\nexec bash -eo pipefail -c "$command"\n')


def run_pod(command_text: str, tmp_path: Path) -> subprocess.Popen:
    experiment, plan = k8s_builders.sweep_on_cloud(["s"], command=[k8s_builders.text(command_text)], env=[{}])
    job = yaml.safe_load(emit_site(experiment, plan, "cloud")["k8s/cloud/tiny-s-job.yaml"])
    (main,) = job["spec"]["template"]["spec"]["containers"]
    return subprocess.Popen([*main["command"], *map(expand, main["args"])], cwd=tmp_path, stdout=subprocess.PIPE, text=True,
                            env={"PATH": "/usr/bin:/bin"})


def test_a_pod_runs_the_command_like_a_host_does(tmp_path: Path):
    """Issue 11 item 5: bash with pipefail, as on local and Slurm sites (a
    failing stage of a pipeline fails the pod), and a one-command process is
    the pod's main process itself, so it receives SIGTERM."""
    failing = run_pod("false | cat", tmp_path)
    failing.communicate(timeout=30)
    assert failing.returncode == 1
    main = run_pod("python3 -c 'import os; print(os.getpid())'", tmp_path)
    out, _ = main.communicate(timeout=30)
    assert main.returncode == 0 and int(out) == main.pid
