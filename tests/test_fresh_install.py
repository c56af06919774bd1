"""The README's first command on a fresh machine (issue 10's acceptance test):
a copy of the checkout, a new virtual environment with no extras,
`pip install . && mlc run examples/quickstart.mlx`; afterwards the copy's
`git status` is clean and every committed out/ folder is up to date.

The copy is made from the working tree's tracked files (so the test checks
what is about to be committed, not only HEAD) and committed in a fresh
repository, whose status is then compared. pip's cache is used, so after the
first run the install takes seconds, not minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv

from tests.conftest import ROOT

PIP_TIMEOUT = 900  # a cold cache downloads Snakemake and the Kubernetes client
RUN_TIMEOUT = 300


def _run(args: list[str], cwd, env, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def _copy_tracked_files(target) -> None:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if not source.is_file():
            continue  # deleted in the working tree, not yet committed
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name, follow_symlinks=False)


def _git(args: list[str], cwd, env) -> str:
    return _run(["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args], cwd, env).stdout


def test_the_readme_first_command_leaves_the_checkout_clean(tmp_path):
    repo = tmp_path / "mlc"
    repo.mkdir()
    _copy_tracked_files(repo)
    # Only what a new user's shell has: no PYTHONPATH to this checkout, no
    # virtual environment of the suite's own (whose extras would leak in).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "MLC_"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    _git(["init", "--quiet"], repo, env)
    _git(["add", "--all"], repo, env)
    _git(["commit", "--quiet", "--no-verify", "-m", "snapshot"], repo, env)

    home = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    bindir = home / ("Scripts" if sys.platform == "win32" else "bin")
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(home)
    _run([str(bindir / "python"), "-m", "pip", "install", "--quiet", "."], repo, env, PIP_TIMEOUT)
    # No extra came in with it: the plan must not depend on them.
    probe = _run([str(bindir / "python"), "-c", "import importlib.util as u; print(u.find_spec('scipy') is None)"],
                 repo, env)
    assert probe.stdout.strip() == "True", "scipy is installed in the fresh environment: the test would prove nothing"

    _run([str(bindir / "mlc"), "run", "examples/quickstart.mlx"], repo, env)

    status = _git(["status", "--porcelain", "--untracked-files=all"], repo, env)
    assert status == "", f"`mlc run` changed committed files or left untracked ones:\n{status}"
    for example in sorted((repo / "examples").glob("*.mlx")):
        rel = example.relative_to(repo).as_posix()
        _run([str(bindir / "mlc"), "compile", rel, "--check"], repo, env)
