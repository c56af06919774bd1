"""The ssh kind's artifacts without a server: they pass the tools, its
settings reach the Snakefile only through config.yaml, and the driver gets
hostile settings byte for byte. (The run itself: tests/e2e/test_ssh_mixed.py,
against the real sshd.)"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import builders
import checks
import pytest
import yaml

from compiler import frontend, ir, placement
from compiler.backends import emit
from compiler.sites.ssh import driver
from compiler.transport import ssh as transport

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "slurm" / "ssh_mixed.mlx"
HOSTILE = "it's $(touch /tmp/pwned) `x` \"q\" ; ü"


def _compile(**params: str):
    experiment, diagnostics, _ = frontend.load(str(EXAMPLE), params)
    assert experiment is not None, [d.message for d in diagnostics.items]
    return experiment, placement.place(experiment)


def test_ssh_artifacts_pass_the_tools(tmp_path):
    experiment, plan = _compile()
    files = emit(experiment, plan)
    folder = checks.write(files, tmp_path / experiment.name)
    checks.assert_scripts_clean(folder, files)
    assert checks.lint_advice(folder) <= checks.ACCEPTED_LINT
    assert {"ssh/box/count.sh", "ssh/box/listing.sh", "ssh/driver.py", "ssh/transport.py"} <= set(files)
    jobs = checks.dry_run_jobs(folder)
    assert sum(jobs.values()) == files["Snakefile"].count("\nrule ")


def test_hostile_settings_reach_config_yaml_only(tmp_path):
    experiment, plan = _compile(ssh_workdir=f"/tmp/{HOSTILE}", ssh_config=f"/etc/{HOSTILE}")
    files = emit(experiment, plan)
    box = yaml.safe_load(files["config.yaml"])["sites"]["box"]
    assert box == {"kind": "ssh", "host": "mlc-test-ssh", "ssh_config": f"/etc/{HOSTILE}",
                   "root": f"/tmp/{HOSTILE}/ssh_mixed"}
    assert HOSTILE not in files["Snakefile"]
    assert all(HOSTILE not in text for path, text in files.items() if path.endswith(".sh") and "/box/" in path)


def test_the_driver_passes_settings_and_paths_as_single_words(tmp_path, monkeypatch):
    """The driver's argv, recorded instead of run: the hostile host settings
    and work root are whole words of the transport's ssh line."""
    calls = []
    monkeypatch.setattr(driver, "_call", lambda argv, **kwargs: calls.append(argv) or 0)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLC_SSH_HOST", "box.lab")
    monkeypatch.setenv("MLC_SSH_CONFIG", "")
    monkeypatch.setenv("MLC_SSH_ROOT", f"/w/{HOSTILE}")
    (tmp_path / "count.sh").write_text("true\n")
    assert driver.main(["run", "count.sh"]) == 0
    mkdir, copy, run = calls
    assert mkdir[-2] == "box.lab" and f"/w/{HOSTILE}" in _remote_words(mkdir[-1])
    assert copy[0] == "rsync" and copy[-1] == f"box.lab:/w/{HOSTILE}/.mlc/scripts/"
    assert _remote_words(run[-1])[-2:] == ["bash", ".mlc/scripts/count.sh"]
    assert "-F" not in run  # no ssh config given: the user's own


def test_the_driver_refuses_a_call_without_its_settings(monkeypatch, capsys):
    for name in ("MLC_SSH_HOST", "MLC_SSH_CONFIG", "MLC_SSH_ROOT"):
        monkeypatch.delenv(name, raising=False)
    assert driver.main(["run", "x.sh"]) == 2
    assert "MLC_SSH_HOST" in capsys.readouterr().err


def _remote_words(line: str) -> list[str]:
    """The words the remote login shell sees in the transport's line."""
    out = subprocess.run(["bash", "-c", 'printf "%s\\0" "$@"', "sh", *shlex.split(line)],
                         capture_output=True, text=True, check=True).stdout
    return out.split("\0")[:-1]


@pytest.mark.ssh
def test_hostile_values_arrive_intact_on_a_real_ssh_host(ssh_host, tmp_path):
    """The hostile sweep of test_hostile.py, placed on an ssh site and run by
    Snakemake against the test sshd, with a hostile work root on the host:
    every member writes the value it sees, the consumer concatenates them on
    the host, and nothing ran a value as shell text."""
    exp, plan = builders.hostile_local(builders.HOSTILE)
    pool = exp.sites[0].pools[0]
    box = ir.Site(name="laptop", kind="ssh", pools=[pool], span=exp.sites[0].span,
                  ssh=ir.SshSettings(host=ssh_host.alias, ssh_config=str(ssh_host.server.config_file)))
    exp = exp.model_copy(update={"sites": [box]})
    files = emit(exp, plan)
    folder = checks.write(files, tmp_path / "hostile")
    root = f"{ssh_host.scratch}/{HOSTILE}"
    config = yaml.safe_load(files["config.yaml"])
    config["sites"]["laptop"]["root"] = root
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    run = subprocess.run(["snakemake", "--cores", "2", "--configfile", str(tmp_path / "mine.yaml")], cwd=folder,
                         capture_output=True, text=True, timeout=600, check=False)
    shared = driver.host_of(ssh_host.alias, str(ssh_host.server.config_file), folder / driver.CONTROL_DIR)
    subprocess.run(transport.close_master_argv(shared), capture_output=True, timeout=30, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    copy = ssh_host.server.shell(f"cat -- {shlex.quote(root)}/copy.txt")
    assert copy.stdout.decode() == "".join(builders.HOSTILE)
    pwned = ssh_host.server.shell(f"find {shlex.quote(ssh_host.scratch)} {shlex.quote(str(folder))} -name pwned")
    assert pwned.stdout == b""
