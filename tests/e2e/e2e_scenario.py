"""What the end-to-end tests share: a scenario (one example compiled into a
folder of its own and run with `mlc`), and readers of what the run left on
the cluster (the job completion log) and in the output folder (job records)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from compiler.runner import ownership
from tests.slurm.cluster import GENEROUS_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "slurm"


@dataclass(frozen=True)
class Scenario:
    """One example compiled into its own output folder, with its own work
    root on the cluster, so that no two runs (or test sessions) share files."""

    example: Path
    out: Path  # the -o root; the workflow is out/<experiment>
    experiment: str
    scratch: Path  # the Slurm site's scratch; the work root is scratch/<experiment>
    params: tuple[str, ...] = ()

    @property
    def folder(self) -> Path:
        return self.out / self.experiment

    @property
    def work_root(self) -> Path:
        return self.scratch / self.experiment

    @property
    def local_tree(self) -> Path:
        """The work tree of the local site `here` (config.yaml: work/here)."""
        return self.folder / "work" / "here"

    def arguments(self, *params: str) -> list[str]:
        """The file, -o and the -p options; a later NAME=VALUE replaces an earlier one."""
        values = dict(p.split("=", 1) for p in (f"scratch={self.scratch}", *self.params, *params))
        return [str(self.example), "-o", str(self.out),
                *(word for name, value in values.items() for word in ("-p", f"{name}={value}"))]

    def mlc(self, command: str, *params: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        """`mlc COMMAND example -o out -p scratch=... [-p ...]`, as a user types
        it. A run that outlasts GENEROUS_TIMEOUT is stopped as Ctrl-C stops it
        (its jobs cancelled), and the test fails saying so."""
        args = [sys.executable, "-m", "compiler.cli", command, *extra, *self.arguments(*params)]
        process = _popen(args, ROOT)
        try:
            out, err = process.communicate(timeout=GENEROUS_TIMEOUT)
        except subprocess.TimeoutExpired:
            out, err = stop_session(process)
            pytest.fail(f"`mlc {command}` did not end within {GENEROUS_TIMEOUT:.0f} s; stopped it:\n{out}{err}")
        return subprocess.CompletedProcess(args, process.returncode, out, err)

    def clean_up(self, cluster) -> list[str]:
        """After the scenario, whatever happened: no process of its runs is
        left, and none of its jobs is left in Slurm (returns those cancelled)."""
        owner = ownership.read(self.folder)
        if owner is not None:
            if owner.mlc is not None and owner.mlc.alive():
                os.kill(owner.mlc.pid, signal.SIGKILL)
            if owner.snakemake is not None and owner.snakemake.alive():
                os.killpg(owner.snakemake.pid, signal.SIGKILL)  # Snakemake's session: its steps too
        return cluster.cancel_jobs_under(self.scratch)

    def popen_run(self) -> subprocess.Popen[str]:
        """`mlc run` started in a session of its own, so that a test can send
        Ctrl-C to its whole process group as a terminal would."""
        return _popen([sys.executable, "-m", "compiler.cli", "run", *self.arguments()], ROOT)

    def popen_snakemake(self) -> subprocess.Popen[str]:
        """`snakemake --cores 2` in the compiled folder, in a session of its own."""
        return _popen(["snakemake", "--cores", "2"], self.folder)


def _popen(command: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_as_from_a_terminal)


def _as_from_a_terminal() -> None:
    """SIGINT at its default, as for a command typed in a terminal: a test
    session started in the background (a CI script's `&`) inherits it
    ignored, and Ctrl-C would then not reach what the tests stop with it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_session(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Ctrl-C to the process's session (mlc then cancels its jobs and stops
    Snakemake), SIGKILL if that is not enough within a minute; its output."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            return process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return process.communicate()


def jobs_in(jobcomp_log: Path, work_root: Path) -> dict[str, dict[str, str]]:
    """Every finished job (array tasks one by one) that ran in `work_root`,
    from the job completion log, keyed like squeue shows them: `12`, `12_0`.

    The work root is unique to a scenario, so other tests' jobs (and other
    sessions on the same cluster) never count."""
    jobs: dict[str, dict[str, str]] = {}
    if not jobcomp_log.is_file():
        return jobs
    for line in jobcomp_log.read_text().splitlines():
        fields = dict(word.split("=", 1) for word in line.split() if "=" in word)
        if fields.get("WorkDir") != str(work_root) or "JobId" not in fields:
            continue
        task = fields.get("ArrayTaskId")
        key = f"{fields['ArrayJobId']}_{task}" if task and task.isdigit() else fields["JobId"]
        jobs[key] = fields
    return dict(sorted(jobs.items()))


def job_names(jobs: dict[str, dict[str, str]]) -> list[str]:
    """The job name of each job, sorted (one entry per array task)."""
    return sorted(record["Name"] for record in jobs.values())


def job_record(folder: Path, rule: str) -> dict[str, str]:
    """The `.mlc/jobs/<rule>` record the generated workflow wrote on submission."""
    path = folder / ".mlc" / "jobs" / rule
    if not path.is_file():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def status_table(stdout: str) -> dict[str, tuple[str, str]]:
    """`mlc status` output as {step: (state, job)}, job "" when none; the
    summary line and service lines are left out."""
    table = {}
    for line in stdout.splitlines():
        columns = re.split(r"\s{2,}", line.strip())
        if len(columns) >= 2:
            table[columns[0]] = (columns[1], columns[2] if len(columns) > 2 else "")
    return table
