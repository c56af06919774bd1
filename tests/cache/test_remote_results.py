"""The results of finished steps on a remote site are checked with one
query per site and run (runner/remote_results): here a Slurm site reached
through a stand-in `ssh` that records each call and runs the command with
sh, as sshd would on the login host."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from compiler.frontend import load
from compiler.runner import jobs, remote_results, results
from tests.conftest import ROOT

FAKE_SSH = r"""#!/usr/bin/env bash
# Stand-in for `ssh [-o OPTION]... [--] HOST COMMAND`: records the call,
# then runs COMMAND with sh in $HOME.
printf '%s\n' "$*" >> "$FAKE_SSH_CALLS"
while [[ $1 == -* ]]; do
  case $1 in
    -o|-F) shift 2 ;;
    --) shift; break ;;
    *) shift ;;
  esac
done
shift
cd "$HOME" && exec sh -c "$*"
"""


def _compiled(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", "examples/ablation.mlx", "-o", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    folder = out / "ablation"
    config = yaml.safe_load((folder / "config.yaml").read_text())
    config["sites"]["charisma"].update(login="me@login", scratch="scratch")  # relative: under $HOME
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return folder


def test_one_ssh_call_per_site_finds_the_gone_results(tmp_path, monkeypatch):
    folder = _compiled(tmp_path)
    bin_dir, home = tmp_path / "bin", tmp_path / "home"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text(FAKE_SSH)
    (bin_dir / "ssh").chmod(0o755)
    calls = tmp_path / "calls"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("FAKE_SSH_CALLS", str(calls))
    experiment, _, _ = load(str(ROOT / "examples/ablation.mlx"))

    index = results.index(folder)
    on_cluster = {rule: entry for rule, entry in index.items() if entry["site"] == "charisma"}
    assert len(on_cluster) >= 2
    (folder / ".mlc/done").mkdir(parents=True)
    for rule in index:
        (folder / ".mlc/done" / rule).touch()
    root = home / "scratch/ablation"
    for entry in on_cluster.values():
        for path in entry["outputs"]:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text("result\n")
    deleted_rule = sorted(on_cluster)[0]
    deleted = on_cluster[deleted_rule]["outputs"][0]
    (root / deleted).unlink()

    lost, problems = results.forget_lost(experiment, folder)
    assert problems == []
    assert len(calls.read_text().splitlines()) == 1  # one query for the whole site
    remote = {rule: paths for rule, paths in lost.items() if rule in on_cluster}
    assert remote == {deleted_rule: [f"charisma:{deleted}"]}
    assert not jobs.done(folder, deleted_rule)
    assert all(jobs.done(folder, rule) for rule in on_cluster if rule != deleted_rule)


def test_an_unreachable_site_is_reported_and_its_flags_kept(tmp_path, monkeypatch):
    folder = _compiled(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text("#!/bin/sh\necho 'ssh: connect to host login: Connection refused' >&2\nexit 255\n")
    (bin_dir / "ssh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    experiment, _, _ = load(str(ROOT / "examples/ablation.mlx"))
    (folder / ".mlc/done").mkdir(parents=True)
    for rule in results.index(folder):
        (folder / ".mlc/done" / rule).touch()
    lost, problems = results.forget_lost(experiment, folder)
    assert problems == ["results on site charisma not checked: ssh: connect to host login: Connection refused"]
    assert all(jobs.done(folder, rule) for rule in results.index(folder) if rule not in lost)


def test_the_query_reports_size_and_mtime_and_a_result_written_after_its_step_runs_again(tmp_path, monkeypatch):
    folder = _compiled(tmp_path)
    bin_dir, home = tmp_path / "bin", tmp_path / "home"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text(FAKE_SSH)
    (bin_dir / "ssh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("FAKE_SSH_CALLS", str(tmp_path / "calls"))
    experiment, _, _ = load(str(ROOT / "examples/ablation.mlx"))
    on_cluster = {rule: entry for rule, entry in results.index(folder).items() if entry["site"] == "charisma"}
    (folder / ".mlc/done").mkdir(parents=True)
    for rule in on_cluster:
        (folder / ".mlc/done" / rule).touch()
    root = home / "scratch/ablation"
    for entry in on_cluster.values():
        for path in entry["outputs"]:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text("result\n")

    settings = jobs.site_config(folder)["charisma"]
    paths = sorted({p for entry in on_cluster.values() for p in entry["outputs"]})
    found = remote_results.existing("slurm", settings, "ablation", paths)
    assert set(found) == set(paths)
    assert {f.size for f in found.values()} == {7}
    assert all(abs(f.mtime - time.time()) < 120 for f in found.values())

    # Written an hour after its step finished (by hand, another run): no
    # longer that step's result.
    changed_rule = sorted(on_cluster)[-1]
    changed = on_cluster[changed_rule]["outputs"][0]
    later = time.time() + 3600
    os.utime(root / changed, (later, later))
    lost, problems = results.forget_lost(experiment, folder)
    assert problems == []
    assert lost == {changed_rule: [f"charisma:{changed}{results.CHANGED}"]}
    assert not jobs.done(folder, changed_rule)


def test_mlc_run_says_which_results_are_gone_and_which_changed():
    from compiler.runner.progress import _again

    assert _again(["cluster:a.txt"]) == " (again: cluster:a.txt is gone)"
    assert _again([f"cluster:b.txt{results.CHANGED}", "cluster:a.txt"]) == \
        " (again: cluster:a.txt is gone; cluster:b.txt (changed after its step))"
    assert _again([]) == " (again: its script or an earlier step changed)"
