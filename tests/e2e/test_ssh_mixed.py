"""examples/slurm/ssh_mixed.mlx for real: a local stage, a stage and a
service on an ssh site (the OpenSSH server of .ci/sshd-up), a Slurm job on
the test cluster and a local stage again, with the generated transfers
moving the data here -> ssh -> Slurm -> here; then the service seen by
`mlc status` and stopped by `mlc down`.

The ssh host is this machine, but the test reads the host's side only over
ssh (ssh_server.shell), as a user of a remote host would."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass

import pytest
from e2e_scenario import EXAMPLES, Scenario, jobs_in

from compiler.sites.ssh import driver
from compiler.transport import ssh as transport

pytestmark = [pytest.mark.slurm, pytest.mark.ssh, pytest.mark.xdist_group("e2e_ssh_mixed")]

EXPERIMENT = "ssh_mixed"
WORDS = "word-1\nword-2\nword-3\nword-4\n"
_FREE_PORT = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
_FETCH = "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())"


@dataclass(frozen=True)
class SshMixedRun:
    scenario: Scenario
    alias: str  # the ssh host as config.yaml names it
    remote_root: str  # the experiment's work root on the ssh host
    port: int
    run: subprocess.CompletedProcess[str]
    jobs: dict[str, dict[str, str]]
    status_up: subprocess.CompletedProcess[str]
    served_up: subprocess.CompletedProcess[bytes]
    down: subprocess.CompletedProcess[str]
    status_down: subprocess.CompletedProcess[str]
    served_down: subprocess.CompletedProcess[bytes]
    pid_file_after_down: subprocess.CompletedProcess[bytes]


def _remote(server, *argv: str) -> subprocess.CompletedProcess[bytes]:
    return server.shell(" ".join(shlex.quote(word) for word in argv))


def _fetch(server, port: int) -> subprocess.CompletedProcess[bytes]:
    return _remote(server, "python3", "-c", _FETCH, f"http://127.0.0.1:{port}/words.txt")


@pytest.fixture(scope="module")
def ssh_mixed(slurm_cluster, ssh_server, tmp_path_factory) -> SshMixedRun:
    made = _remote(ssh_server, "mktemp", "-d", f"{ssh_server.scratch_root}/e2e-XXXXXXXX")
    workdir = made.stdout.decode().strip()
    assert made.returncode == 0 and workdir.startswith(ssh_server.scratch_root + "/"), made.stderr
    port = int(_remote(ssh_server, "python3", "-c", _FREE_PORT).stdout)
    scenario = Scenario(
        example=EXAMPLES / "ssh_mixed.mlx", out=tmp_path_factory.mktemp(EXPERIMENT), experiment=EXPERIMENT,
        scratch=slurm_cluster.workdir(),
        params=("words=4", f"port={port}", f"ssh_host={ssh_server.alias}",
                f"ssh_config={ssh_server.config_file}", f"ssh_workdir={workdir}"),
    )
    try:
        run = scenario.mlc("run")
        result = SshMixedRun(
            scenario=scenario, alias=ssh_server.alias, remote_root=f"{workdir}/{EXPERIMENT}", port=port, run=run,
            jobs=jobs_in(slurm_cluster.jobcomp_log, scenario.work_root),
            status_up=scenario.mlc("status"), served_up=_fetch(ssh_server, port),
            down=scenario.mlc("down"), status_down=scenario.mlc("status"), served_down=_fetch(ssh_server, port),
            pid_file_after_down=_remote(ssh_server, "test", "-e", f"{workdir}/{EXPERIMENT}/.mlc/run/listing.pid"),
        )
        yield result
    finally:
        scenario.mlc("down")  # the service stops whatever failed above
        scenario.clean_up(slurm_cluster)
        _remote(ssh_server, "rm", "-rf", "--", workdir)
        # The run's shared ssh connection would otherwise linger for ControlPersist.
        host = driver.host_of(ssh_server.alias, str(ssh_server.config_file), scenario.folder / ".mlc" / "ssh")
        subprocess.run(transport.close_master_argv(host), capture_output=True, timeout=30, check=False)


def test_run_succeeds_through_every_step(ssh_mixed):
    run = ssh_mixed.run
    assert run.returncode == 0, run.stdout + run.stderr
    assert "done: 10 steps" in run.stdout  # with the result cache's ship steps to box and cluster
    for step in ("prepare on the local site here", "move prepare.words from here to box",
                 "count on the ssh site box", "listing on the ssh site box",
                 "move count.counts from box to cluster", "stage tally on Slurm cluster.cpu",
                 "move tally.total from cluster to here", "report on the local site here"):
        assert f"done     {step}" in run.stdout


def test_local_data_reached_the_ssh_host_byte_for_byte(ssh_mixed, ssh_server):
    local = (ssh_mixed.scenario.local_tree / "data/words.txt").read_bytes()
    remote = _remote(ssh_server, "cat", "--", f"{ssh_mixed.remote_root}/data/words.txt")
    assert local == remote.stdout == WORDS.encode()


def test_the_ssh_stage_ran_on_the_host_and_its_result_reached_slurm_and_came_back(ssh_mixed, ssh_server):
    hostname = _remote(ssh_server, "hostname").stdout.decode().strip()
    counts = f"lines=4 host={hostname}\n"
    on_host = _remote(ssh_server, "cat", "--", f"{ssh_mixed.remote_root}/counts/words.txt").stdout.decode()
    assert on_host == counts
    (job,) = ssh_mixed.jobs
    assert [r["Name"] for r in ssh_mixed.jobs.values()] == ["ssh_mixed-tally"]
    assert (ssh_mixed.scenario.work_root / "counts/words.txt").read_text() == counts
    total = counts + f"job={job}\n"
    assert (ssh_mixed.scenario.work_root / "total/words.txt").read_text() == total
    assert (ssh_mixed.scenario.local_tree / "total/words.txt").read_text() == total
    assert (ssh_mixed.scenario.local_tree / "report.txt").read_text() == \
        "counted over ssh, totalled on Slurm:\n" + total


def test_the_service_runs_on_the_host_and_status_sees_it(ssh_mixed):
    assert ssh_mixed.served_up.returncode == 0, ssh_mixed.served_up.stderr
    assert ssh_mixed.served_up.stdout == WORDS.encode()
    assert ssh_mixed.status_up.returncode == 0, ssh_mixed.status_up.stderr
    assert f"service listing: {ssh_mixed.alias}:{ssh_mixed.port} (running)" \
        in ssh_mixed.status_up.stdout


def test_down_stops_the_service_and_status_says_so(ssh_mixed):
    assert ssh_mixed.down.returncode == 0, ssh_mixed.down.stdout + ssh_mixed.down.stderr
    assert "service listing: stopped" in ssh_mixed.down.stdout
    assert f":{ssh_mixed.port} (not running)" in ssh_mixed.status_down.stdout
    assert ssh_mixed.served_down.returncode != 0
    assert ssh_mixed.pid_file_after_down.returncode == 1  # the pid file is gone
