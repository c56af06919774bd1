"""Every transfer script does what plan.json says (Transfer.route): each
example is compiled, each transfer script is run against stand-ins for
ssh, rsync, kubectl, aws, gcloud and tar that only record their arguments,
and the route is read back from what ran where:

- a copy tool (rsync, aws s3, gcloud storage) inside an ssh command: direct,
  run by the host logged into (a pull when that is the target's);
- a copy tool on this machine: direct, run by the end nothing reached
  remotely (the workflow machine's own site);
- no copy tool, both ends reached remotely: a relay, and then nothing may be
  written on this machine (streamed, not staged);
- rclone, or a cluster's push or fetch Job applied (kubectl apply, never
  exec): via-store, run by the host whose shell ran rclone (over ssh, or
  this machine's own site), or by nobody outside a cluster when this machine
  only keeps a copy on the way (rsync next to rclone) or nothing ran rclone."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import builders
import pytest

from compiler import frontend, placement
from compiler.backends import emit, transfers
from compiler.ir import Experiment, Plan, Route
from compiler.sites import registry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASES = sorted([*EXAMPLES.glob("*.mlx"), *(EXAMPLES / "slurm").glob("*.mlx")])
SHELLCHECK = shutil.which("shellcheck")
TOOLS = ("ssh", "rsync", "kubectl", "aws", "gcloud", "tar", "rclone")
COPY = re.compile(r"\b(rsync|aws s3|gcloud storage)\b")


def _stubs(folder: Path) -> Path:
    """Stand-ins that write their name and arguments (NUL-separated) to a
    file of their own under $STUB_LOG (the two sides of a pipe run at once)
    and swallow stdin."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    for tool in TOOLS:
        stub = bin_dir / tool
        stub.write_text(f'#!/usr/bin/env bash\nprintf "%s\\0" {tool} "$@" >"$STUB_LOG/$$"\ncat >/dev/null\n')
        stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def _calls(log: Path) -> list[list[str]]:
    return [call.read_text().rstrip("\0").split("\0") for call in sorted(log.iterdir())]


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() or p.is_dir()}


def observed_route(experiment: Experiment, plan: Plan, transfer, tmp_path: Path) -> Route:
    source = transfers.end(experiment, transfer.source_site, transfer.path)
    target = transfers.end(experiment, transfer.target_site, transfer.target_path)
    by_login = {e.login: e.site for e in (source, target) if e.login}
    by_namespace = {e.namespace: e.site for e in (source, target) if e.namespace}
    folder = tmp_path / transfer.id
    folder.mkdir()
    script = folder / "run.sh"
    script.write_text(emit(experiment, plan)[transfers.script_path(transfer)])
    log = tmp_path / f"{transfer.id}.log"
    log.mkdir()
    home = tmp_path / f"{transfer.id}.home"
    home.mkdir()
    env = {**os.environ, "STUB_LOG": str(log), "HOME": str(home),
           "PATH": f"{_stubs(tmp_path / (transfer.id + '.tools'))}:{os.environ['PATH']}"}
    work = folder / "cwd"
    work.mkdir()
    for path, text in emit(experiment, plan).items():  # the output folder: a cluster's Job scripts
        if path.startswith("k8s/"):
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_text(text)
    before = _files(work)
    result = subprocess.run(["bash", str(script)], check=False, stdin=subprocess.DEVNULL, cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    calls = _calls(log)
    applied = any(tool == "kubectl" and "apply" in args for tool, *args in calls)
    remote_rclone = [args for tool, *args in calls if tool == "ssh" and "rclone " in args[-1]]
    if applied or remote_rclone or any(tool == "rclone" for tool, *_ in calls):
        assert not any(tool == "kubectl" and "exec" in args for tool, *args in calls), "staged, yet exec"
        runs_on = None
        if remote_rclone:
            runs_on = by_login[remote_rclone[0][-2]]
        elif any(tool == "rclone" for tool, *_ in calls) and not any(tool == "rsync" for tool, *_ in calls):
            runs_on = next(s for s in (transfer.source_site, transfer.target_site)
                           if registry.of(experiment.site(s)).is_workflow_machine)
        return Route(kind="via-store", runs_on=runs_on, staging=transfer.route.staging)
    for tool, *args in calls:
        if tool == "ssh" and COPY.search(args[-1]):
            host = by_login[args[-2]]
            return Route(kind="direct-pull" if host == transfer.target_site else "direct-push", runs_on=host)
    reached = set()
    for tool, *args in calls:
        if tool == "ssh":
            reached.add(by_login[args[-2]])
        elif tool == "kubectl":
            reached.add(by_namespace[args[args.index("--namespace") + 1]])
        elif tool in ("aws", "gcloud"):
            reached.add(transfer.source_site)  # an object-store path is read where the data set is
        elif tool == "rsync":
            reached |= {by_login[a.split(":", 1)[0]] for a in args if ":" in a and a.split(":", 1)[0] in by_login}
    copied_here = any(tool in ("rsync", "aws", "gcloud", "tar") for tool, *_ in calls)
    if not copied_here and reached == {transfer.source_site, transfer.target_site}:
        assert _files(work) == before, "a relay wrote to this machine"
        return Route(kind="relay")
    # Run here: by the end not reached remotely; when neither was (a Slurm
    # site without a login host is this machine too), by the workflow machine's site.
    unreached = sorted({transfer.source_site, transfer.target_site} - reached)
    runners = [s for s in unreached if registry.of(experiment.site(s)).is_workflow_machine] or unreached
    assert len(runners) == 1, f"{transfer.id}: copied on this machine between two remote ends (staged here?)"
    here = runners[0]
    return Route(kind="direct-pull" if here == transfer.target_site else "direct-push", runs_on=here)


def _compiled(path: Path):
    experiment, diagnostics, _ = frontend.load(str(path), {})
    assert experiment is not None, [d.message for d in diagnostics.items]
    return experiment, placement.place(experiment)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_every_examples_scripts_take_the_plans_routes(path, tmp_path):
    experiment, plan = _compiled(path)
    for transfer in plan.transfers:
        assert observed_route(experiment, plan, transfer, tmp_path) == transfer.route, transfer.id


def test_the_examples_and_a_hand_made_plan_cover_every_route(tmp_path):
    # Without this the test above could pass on examples that move nothing.
    seen = {t.route.kind for path in CASES for t in _compiled(path)[1].transfers}
    built = (builders.multisite(), builders.with_kubernetes(staging=None, data_path="exec"))
    for i, (experiment, plan) in enumerate(built):
        (tmp_path / str(i)).mkdir()
        for transfer in plan.transfers:
            assert observed_route(experiment, plan, transfer, tmp_path / str(i)) == transfer.route, transfer.id
            seen.add(transfer.route.kind)
    assert seen == {"direct-pull", "direct-push", "relay", "via-store"}


@pytest.mark.parametrize("into_cluster", [True, False])
def test_an_ssh_host_and_a_staging_cluster_go_through_a_copy_kept_here(tmp_path, into_cluster):
    """An ssh host reaches no object storage: this machine carries its leg,
    rsync to a copy under .mlc/staging, then rclone (both resume); the
    cluster's half is its Job's script. No exec, nothing streamed."""
    experiment, _ = builders.with_kubernetes()
    box = transfers.End(site="box", kind="ssh", path="data/set", root="mlc-work", login="box.example", access="ssh")
    cluster = transfers.End(site="cloud", kind="kubernetes", path="data/set", context="ctx", namespace="ns",
                            access="staging")
    source, target = (box, cluster) if into_cluster else (cluster, box)
    route = Route(kind="via-store", runs_on=None, staging="s3://staging/mlc")
    job = "k8s/cloud/fetch-x.sh" if into_cluster else "k8s/cloud/push-x.sh"
    staged = {"staged_before": ":s3:staging/mlc/kube/", "staged_after": "/x", "spool_path": ".mlc/staging/x",
              "rclone_flags": ["--s3-env-auth"], ("fetch_script" if into_cluster else "push_script"): job}
    text = transfers.script_text(experiment, experiment.span, "x", "data", "dir", source, target, route, **staged)
    assert transfers.tools(source, target, route) == ["kubectl", "rclone", "rsync", "ssh"]
    work = tmp_path / "out"
    (work / "k8s/cloud").mkdir(parents=True)
    (work / job).write_text('printf "%s\\0" job "$KUBE_NAMESPACE" "$KUBE_RUN" >"$STUB_LOG/job"\n')
    (work / "run.sh").write_text(text)
    log = tmp_path / "log"
    log.mkdir()
    env = {**os.environ, "STUB_LOG": str(log), "HOME": str(tmp_path), "MLC_RUN": "nightly",
           "PATH": f"{_stubs(tmp_path / 'tools')}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "run.sh"], cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    calls = _calls(log)
    tools = [call[0] for call in calls]
    assert "kubectl" not in tools  # only the Job's script talks to the cluster
    assert ["job", "ns"] in calls  # the run id (empty: the default) follows as the Job script reads it
    rclone = next(call for call in calls if call[0] == "rclone")
    rsync = next(call for call in calls if call[0] == "rsync")
    staged_at = ":s3:staging/mlc/kube/nightly/x"
    if into_cluster:
        assert rclone[1:4] == ["copy", ".mlc/staging/x", staged_at]
        assert rsync[-2:] == ["box.example:mlc-work/data/set/", ".mlc/staging/x/"]
    else:
        assert rclone[1:4] == ["copy", staged_at, ".mlc/staging/x"]
        assert rsync[-2:] == [".mlc/staging/x/", "box.example:mlc-work/data/set/"]
    assert (work / ".mlc/staging/x").is_dir()
    if SHELLCHECK:
        check = subprocess.run([SHELLCHECK, "-s", "bash", "-"], input=text, text=True, capture_output=True)
        assert check.returncode == 0, check.stdout
