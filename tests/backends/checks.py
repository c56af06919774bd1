"""Running the tools that judge generated files: bash -n, shellcheck,
snakemake --lint / -n. Shared by the back-end tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from compiler.backends import writer

SCRIPT_SUFFIXES = (".sh", ".sbatch")
# The one piece of lint advice the Snakefile leaves unanswered on purpose
# (docs/codegen.md says why): its rules run glue scripts, not software.
ACCEPTED_LINT = {"Specify a conda environment or container for each rule.:"}


def write(files: dict[str, str], folder: Path) -> Path:
    writer.write_tree(folder, files)
    return folder


def scripts(files: dict[str, str]) -> list[str]:
    return sorted(path for path in files if path.endswith(SCRIPT_SUFFIXES))


def assert_scripts_clean(folder: Path, files: dict[str, str]) -> None:
    paths = scripts(files)
    assert paths, "no scripts generated"
    for path in paths:
        syntax = subprocess.run(["bash", "-n", path], cwd=folder, capture_output=True, text=True, check=False)
        assert syntax.returncode == 0, f"bash -n {path}:\n{syntax.stderr}"
    lint = subprocess.run(
        ["shellcheck", "--norc", *paths], cwd=folder, capture_output=True, text=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def snakemake(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["snakemake", "--cores", "1", *args], cwd=folder, capture_output=True, text=True, timeout=120, check=False,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def lint_advice(folder: Path) -> set[str]:
    """Every distinct piece of advice `snakemake --lint` gives."""
    result = snakemake(folder, "--lint", check=False)
    output = result.stdout + result.stderr
    return {line.strip()[2:] for line in output.splitlines() if line.startswith("    * ")}


def dry_run_jobs(folder: Path) -> dict[str, int]:
    """Rule name -> job count, from the table `snakemake -n` prints."""
    output = snakemake(folder, "-n").stdout
    jobs = {}
    in_table = False
    for line in output.splitlines():
        fields = line.split()
        if fields[:2] == ["job", "count"]:
            in_table = True
        elif in_table and len(fields) == 2 and fields[1].isdigit():
            if fields[0] == "total":
                break
            jobs[fields[0]] = int(fields[1])
    return jobs
