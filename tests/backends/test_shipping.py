"""Code shipping (compiler/backends/shipping.py), run for real: the project
paths a site's units read (the `code` list, `file()`/`dir()` inputs) are in
its work tree before they start, at the same relative path; on the local
site as links to the project, elsewhere as copies; and again only when a
project file changed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import checks
from test_run_workflows import _fake_cluster, _run

from compiler import frontend, placement
from compiler.backends import compile_to, emit, shipping

ROOT = Path(__file__).resolve().parents[2]

LOCAL = """
experiment hello { code = ["tools"] }
site here : local { cpus = 2; memory = 2GiB }
stage greet {
  in cfg = file("configs/hello.py")
  out text = file("results/greeting.txt")
  run = "python3 ${in.cfg} > ${out.text} && python3 tools/shout.py ${out.text}"
}
"""


def _project(folder: Path, mlx: str, files: dict[str, str]) -> Path:
    for name, body in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(body))
    (folder / "exp.mlx").write_text(textwrap.dedent(mlx))
    return folder / "exp.mlx"


def _hello_project(folder: Path) -> Path:
    return _project(folder, LOCAL, {
        "configs/hello.py": 'print("hello from the config")\n',
        "tools/shout.py": "import sys\np = sys.argv[1]\ntext = open(p).read()\nopen(p, 'w').write(text.upper())\n",
    })


def _mlc_run(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(source), "-o", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def test_a_project_file_input_and_code_are_found_on_the_local_site(tmp_path):
    """issue 14: `in cfg = file("configs/hello.py")` failed with "can't open
    file '.../work/<site>/configs/hello.py'"."""
    source = _hello_project(tmp_path / "project")
    result = _mlc_run(source, tmp_path / "out")
    assert result.returncode == 0, result.stdout + result.stderr
    tree = tmp_path / "out/hello/work/here"
    assert (tree / "results/greeting.txt").read_text() == "HELLO FROM THE CONFIG\n"
    # Linked, not copied: the work tree resolves to the project's own files.
    assert (tree / "configs/hello.py").is_symlink() and (tree / "tools").is_symlink()
    assert (tree / "tools").resolve() == (tmp_path / "project/tools").resolve()


def test_a_changed_project_file_ships_again_and_reruns_its_readers_and_only_then(tmp_path):
    source = _hello_project(tmp_path / "project")
    out = tmp_path / "out"
    assert _mlc_run(source, out).returncode == 0
    again = _mlc_run(source, out)
    assert again.returncode == 0 and "started" not in again.stdout, again.stdout
    config = tmp_path / "project/configs/hello.py"
    config.write_text('print("hello again")\n')
    changed = _mlc_run(source, out)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "started  link the project paths the units on here read" in changed.stdout
    assert (out / "hello/work/here/results/greeting.txt").read_text() == "HELLO AGAIN\n"


SLURM = """
experiment shipped { code = ["tools"] }
param scratch: str = "scratch"
site hpc : slurm {
  scratch = "${scratch}"
  partition cpu { nodes = 1; cpus = 2; memory = 2GiB }
}
stage run_tool {
  in cfg = file("configs/n.txt")
  out result = file("result.txt")
  on = hpc
  run = "python3 tools/a.py ${in.cfg} > ${out.result}"
}
"""


def _slurm_project(folder: Path) -> Path:
    return _project(folder, SLURM, {
        "configs/n.txt": "21\n",
        "tools/a.py": "import sys\nprint(2 * int(open(sys.argv[1]).read()))\n",
        "tools/b.py": "print('b')\n",
    })


def _compile(source: Path, out: Path, *params: str) -> Path:
    experiment, diags, _ = frontend.load(str(source), dict(p.split("=", 1) for p in params))
    assert experiment is not None, diags.items
    plan = placement.place(experiment)
    compile_to(experiment, plan, out / experiment.name)
    return out / experiment.name


def test_a_slurm_site_gets_a_copy_and_a_changed_file_alone_is_sent_again(tmp_path):
    """Through a stand-in sbatch (tests/backends/test_run_workflows.py): the
    ship steps rsync the project paths into the cluster's work root before
    the job, and a second run after one file of a folder changed sends that
    file only (the other keeps its inode)."""
    source = _slurm_project(tmp_path / "project")
    scratch = tmp_path / "scratch"
    folder = _compile(source, tmp_path / "out", f"scratch={scratch}")
    env = _fake_cluster(tmp_path)
    result = _run(folder, env)
    assert result.returncode == 0, result.stdout + result.stderr
    root = scratch / "shipped"
    assert (root / "result.txt").read_text() == "42\n"
    assert (root / "configs/n.txt").read_text() == "21\n" and not (root / "configs/n.txt").is_symlink()
    inode_a = os.stat(root / "tools/a.py").st_ino
    changed = tmp_path / "project/tools/b.py"
    changed.write_text("print('b, changed')\n")
    second = _run(folder, env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert (root / "tools/b.py").read_text() == "print('b, changed')\n"
    assert os.stat(root / "tools/a.py").st_ino == inode_a  # not sent again
    assert "localrule ship_hpc_tools:" in second.stderr
    assert "localrule ship_hpc_configs_n_txt" not in second.stderr  # its file did not change: not run again


MULTI = """
experiment multi { code = ["lib"] }
site hpc : slurm { partition cpu { nodes = 1; cpus = 2; memory = 2GiB } }
site cloud : kubernetes { staging = "s3://staging/mlc"; pool cpu { nodes = 1; cpus = 2; memory = 2GiB } }
site here : local { cpus = 2; memory = 2GiB }
stage a { in cfg = file("configs/a.yaml"); in inner = file("lib/x.py"); out o = file("o"); on = hpc; run = "true" }
stage b { in o = a.o; in cfg = dir("configs"); out p = file("p"); on = cloud; run = "true" }
stage c { in p = b.p; on = here; run = "true" }
"""


def _multi(tmp_path: Path):
    source = _project(tmp_path, MULTI, {"configs/a.yaml": "", "lib/x.py": ""})
    experiment, diags, _ = frontend.load(str(source), {})
    assert experiment is not None, diags.items
    return experiment, placement.place(experiment)


def test_code_goes_to_every_site_with_a_unit_and_an_input_to_its_readers_only(tmp_path):
    experiment, plan = _multi(tmp_path)
    needs = {site: [(p.path, p.kind) for p in paths] for site, paths in shipping.needs(experiment, plan).items()}
    assert needs == {
        "cloud": [("configs", "dir"), ("lib", "dir")],
        "here": [("lib", "dir")],
        "hpc": [("configs/a.yaml", "file"), ("lib", "dir")],  # lib/x.py travels inside lib
    }


def test_each_kind_states_how_code_reaches_it(tmp_path):
    """The local site links; a Slurm site is reached over ssh (rsync); a
    Kubernetes site through its staging bucket, as its transfers are."""
    experiment, plan = _multi(tmp_path)
    files = emit(experiment, plan)
    assert sorted(p for p in files if p.startswith("ship/")) == [
        "ship/cloud/_step_cache.sh", "ship/cloud/configs.sh", "ship/cloud/lib.sh", "ship/here.sh",
        "ship/hpc/_step_cache.sh", "ship/hpc/configs_a.yaml-98cb29.sh", "ship/hpc/lib.sh",
    ]
    # The result cache goes where a stage runs through it on its own host or
    # in its pod (not the local site: run in place); into a cluster through
    # its staging bucket and a fetch Job, like code.
    assert "rsync -a -s -e" in files["ship/hpc/_step_cache.sh"] and "slurm/step_cache.py" in files
    assert "target_path=.mlc/step_cache.py" in files["ship/hpc/_step_cache.sh"]
    cache_into_cloud = files["ship/cloud/_step_cache.sh"]
    assert "k8s/step_cache.py" in files and "target_path=.mlc/step_cache.py" in cache_into_cloud
    assert "exec bash k8s/cloud/fetch-ship-_step_cache.sh" in cache_into_cloud
    assert "k8s/cloud/fetch-ship-_step_cache.sh" in files and "k8s/cloud/multi-ship-step-cache-job.yaml" in files
    assert "ln -sfn" in files["ship/here.sh"]
    assert "rsync -a -s -e" in files["ship/hpc/lib.sh"]
    into_cloud = files["ship/cloud/configs.sh"]
    assert 'rclone "$verb" "$(under "$source_root" "$source_path")" "$staged"' in into_cloud
    assert "exec bash k8s/cloud/fetch-ship-configs.sh" in into_cloud
    assert "in_mover" not in into_cloud and "rsync -a" not in into_cloud
    assert "k8s/cloud/fetch-ship-configs.sh" in files and "k8s/cloud/multi-ship-configs-job.yaml" in files
    folder = checks.write(files, tmp_path / "out")
    checks.assert_scripts_clean(folder, files)
    # Every unit waits for the steps that bring its site's project paths.
    snakefile = files["Snakefile"]
    rule_c = snakefile[snakefile.index("rule c:"):]
    assert '".mlc/done/ship_here"' in rule_c[:rule_c.index("output:")]


WIDE = """
experiment wide { code = ["lib"] }
site hpc : slurm { partition cpu { nodes = 1; cpus = 2; memory = 2GiB } }
stage s1 { in cfg = file("inputs/1.txt"); out o = file("o1"); on = hpc; run = "true" }
stage s2 { in cfg = file("inputs/2.txt"); out o = file("o2"); on = hpc; run = "true" }
stage s3 { in cfg = file("inputs/3.txt"); in x = file("lib/x.py"); out o = file("o3"); on = hpc; run = "true" }
"""


def test_a_unit_waits_for_the_ship_steps_of_its_own_paths_only(tmp_path):
    """A unit waits for the `code` list's steps and its own inputs', never for
    another unit's: N stages each reading its own file used to make N² edges
    (a 78 MB Snakefile for a 1,000-task WfCommons workflow)."""
    from compiler.backends.snakefile import StepBuilder

    source = _project(tmp_path, WIDE, {"inputs/1.txt": "", "inputs/2.txt": "", "inputs/3.txt": "", "lib/x.py": ""})
    experiment, diags, _ = frontend.load(str(source), {})
    assert experiment is not None, diags.items
    builder = StepBuilder(experiment, placement.place(experiment))
    builder.build()
    ships = {rule.flag: rule.comment for rule in builder.rules if rule.name.startswith("ship_")}
    waits = {unit: sorted(ships[flag] for flag in rule.after if flag in ships)
             for unit, rule in builder.rule_of_unit.items()}
    cache = "ship the result cache to hpc"  # every stage there runs through it
    assert waits == {
        "s1": ["ship inputs/1.txt to hpc", "ship lib to hpc", cache],
        "s2": ["ship inputs/2.txt to hpc", "ship lib to hpc", cache],
        "s3": ["ship inputs/3.txt to hpc", "ship lib to hpc", cache],  # lib/x.py travels inside lib
    }
