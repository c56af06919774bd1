"""The output folder can never be turned against the user (issue 18, classes
0 and 7): a committed manifest or symlink cannot make mlc touch anything
outside the folder, an interrupted compile leaves the old generation or the
new one, and the output is the same however mlc is called."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.backends.writer import (
    MANIFEST,
    ManifestError,
    UnsafePath,
    WriteConflict,
    check_tree,
    digest,
    read_manifest,
    recover,
    write_tree,
)
from tests.conftest import ROOT

OLD = {
    "Snakefile": "rule all: old\n",
    "config.yaml": "old: 1\n",
    "local/site/a.sh": "#!/bin/bash\necho a\n",
    "local/site/gone.sh": "#!/bin/bash\necho gone\n",
    "transfers/t1.sh": "#!/bin/bash\necho t1\n",
    "plan.json": "{}\n",
}
NEW = {
    "Snakefile": "rule all: new\n",
    "config.yaml": "old: 1\n",
    "local/site/a.sh": "#!/bin/bash\necho a, changed\n",
    "local/other/b.sh": "#!/bin/bash\necho b\n",
    "plan.json": '{"new": true}\n',
}
VICTIM_TEXT = "the user's precious file\n"


def _cli(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=600)


def _edit_manifest(outdir: Path, **entries: str) -> None:
    document = json.loads((outdir / MANIFEST).read_text())
    document["files"].update(entries)
    (outdir / MANIFEST).write_text(json.dumps(document))


# --- 1. the manifest cannot point outside the folder -----------------------------


def _escapes(victim: Path) -> list[str]:
    return ["../victim.txt", "../../x/../victim.txt", str(victim), "local/../../victim.txt"]


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("which", range(4))
def test_a_manifest_entry_outside_the_folder_deletes_nothing(tmp_path, which, force):
    outdir = tmp_path / "out" / "exp"
    victim = tmp_path / "out" / "victim.txt"
    write_tree(outdir, OLD)
    victim.write_text(VICTIM_TEXT)
    entry = _escapes(victim)[which]
    _edit_manifest(outdir, **{entry: digest(VICTIM_TEXT)})  # the right hash: a deletion would go through
    with pytest.raises(ManifestError) as error:
        write_tree(outdir, NEW, force=force)
    assert victim.read_text() == VICTIM_TEXT
    assert str(outdir / MANIFEST) in str(error.value) and json.dumps(entry) in str(error.value)
    assert all((outdir / rel).read_text() == text for rel, text in OLD.items())  # nothing touched


@pytest.mark.parametrize("entry", ["./Snakefile", "local//site/a.sh", "local/./site/a.sh", "",
                                   ".mlc/done/rule_a", "a\nb", "/etc/passwd"])
def test_malformed_manifest_entries_are_refused(tmp_path, entry):
    write_tree(tmp_path, OLD)
    _edit_manifest(tmp_path, **{entry: digest("x")})
    with pytest.raises(ManifestError):
        write_tree(tmp_path, NEW)
    with pytest.raises(ManifestError):
        check_tree(tmp_path, NEW)


@pytest.mark.parametrize("text", ["not json", "[]", '{"files": []}', '{"files": {"a": 3}}',
                                  '{"files": {"a": "beef"}}', "\xff"])
def test_a_manifest_that_is_not_a_manifest_is_refused(tmp_path, text):
    write_tree(tmp_path, OLD)
    (tmp_path / MANIFEST).write_text(text, encoding="latin-1")
    with pytest.raises(ManifestError):
        write_tree(tmp_path, NEW, force=True)
    assert (tmp_path / "local/site/gone.sh").exists()


def test_the_cli_reports_a_hostile_manifest_as_a_usage_error(tmp_path):
    out = tmp_path / "out"
    assert _cli("compile", "examples/quickstart.mlx", "-o", str(out)).returncode == 0
    victim = tmp_path / "victim.txt"
    victim.write_text(VICTIM_TEXT)
    _edit_manifest(out / "quickstart", **{"../../victim.txt": digest(VICTIM_TEXT)})
    for extra in ([], ["--force"]):
        result = _cli("compile", "examples/quickstart.mlx", "-o", str(out), *extra)
        assert result.returncode == 2, result.stderr
        assert "manifest.json" in result.stderr and "../../victim.txt" in result.stderr
        assert "bug in mlc" not in result.stderr
    assert victim.read_text() == VICTIM_TEXT


def test_force_overwrites_generated_files_but_never_deletes_an_edited_one(tmp_path):
    write_tree(tmp_path, OLD)
    (tmp_path / "local/site/gone.sh").write_text("my edit\n")
    (tmp_path / "Snakefile").write_text("my edit\n")
    with pytest.raises(WriteConflict) as error:
        write_tree(tmp_path, NEW)
    assert error.value.paths == ["Snakefile", "local/site/gone.sh"]
    result = write_tree(tmp_path, NEW, force=True)
    assert (tmp_path / "Snakefile").read_text() == NEW["Snakefile"]  # mlc generates it: overwritten
    assert (tmp_path / "local/site/gone.sh").read_text() == "my edit\n"  # not any more: kept
    assert result.kept == ["local/site/gone.sh"] and "local/site/gone.sh" not in result.removed
    assert "local/site/gone.sh" not in read_manifest(tmp_path)
    assert check_tree(tmp_path, NEW) == []
    with pytest.raises(WriteConflict):  # the user's file now: a conflict, never a deletion
        write_tree(tmp_path, OLD)


# --- 2. symlinks are never followed out of the folder -------------------------------


@pytest.mark.parametrize("link, to_folder", [
    ("local", True), ("local/site", True), ("transfers", True), (".mlc", True),
    ("Snakefile", False), ("local/site/a.sh", False), (MANIFEST, False), ("Snakefile", True),
])
def test_a_symlink_inside_the_folder_is_never_followed(tmp_path, link, to_folder):
    outdir = tmp_path / "exp"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "profile.sh").write_text("mine\n")
    write_tree(outdir, OLD)
    target = outdir / link
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    target.symlink_to(outside if to_folder else outside / "profile.sh")
    before = sorted(p.name for p in outside.iterdir())
    with pytest.raises(UnsafePath) as error:
        write_tree(outdir, NEW, force=True)
    assert "symbolic link" in str(error.value) and link in str(error.value)
    assert sorted(p.name for p in outside.iterdir()) == before
    assert (outside / "profile.sh").read_text() == "mine\n"


def test_the_folder_itself_may_not_be_a_symlink(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "exp").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePath):
        write_tree(tmp_path / "exp", NEW)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_fifo_where_a_file_belongs_does_not_hang_the_writer(tmp_path):
    write_tree(tmp_path, OLD)
    (tmp_path / "Snakefile").unlink()
    os.mkfifo(tmp_path / "Snakefile")
    with pytest.raises(UnsafePath, match="not a regular file"):
        write_tree(tmp_path, NEW, force=True)


def test_the_cli_refuses_a_committed_symlink(tmp_path):
    out = tmp_path / "out"
    profile = tmp_path / "profile.d"
    profile.mkdir()
    (out / "quickstart" / "local").mkdir(parents=True)
    (out / "quickstart" / "local" / "laptop").symlink_to(profile)
    result = _cli("compile", "examples/quickstart.mlx", "-o", str(out), "--force")
    assert result.returncode == 2, result.stderr
    assert "local/laptop is a symbolic link" in result.stderr
    assert list(profile.iterdir()) == []


# --- 3. an interrupted write leaves the old generation or the new one -----------------

_WRITE = "import json, sys\nfrom compiler.backends.writer import write_tree\n" \
         "write_tree(sys.argv[1], json.loads(sys.argv[2]))\n"


def _write_killed_at(outdir: Path, files: dict, step: int) -> bool:
    """Runs write_tree in a child killed at its `step`th change; True if killed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MLC_TEST_WRITER_KILL_AT=str(step))
    result = subprocess.run([sys.executable, "-c", _WRITE, str(outdir), json.dumps(files)], env=env,
                            capture_output=True, text=True, timeout=120)
    if result.returncode == -signal.SIGKILL:
        return True
    assert result.returncode == 0, result.stderr
    return False


def _snapshot(outdir: Path, skip: tuple[str, ...] = ("notes.md", "work")) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(outdir)): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
            for p in sorted(outdir.rglob("*")) if p.is_file() and not str(p.relative_to(outdir)).startswith(skip)}


def _clean_tree(tmp_path: Path, files: dict) -> dict:
    clean = tmp_path / "clean"
    write_tree(clean, files)
    return _snapshot(clean)


def _assert_one_generation(outdir: Path, generations: list[dict]) -> None:
    leftovers = [p for p in outdir.rglob("*") if p.name.endswith(".tmp") or p.name in ("next", "journal.json")]
    assert leftovers == []
    manifest = read_manifest(outdir)
    matches = [files for files in generations
               if manifest == {rel: digest(text) for rel, text in files.items()} and check_tree(outdir, files) == []]
    assert matches, f"a mix of generations: {sorted(_snapshot(outdir))}"


def _prepare(tmp_path: Path) -> Path:
    outdir = tmp_path / "exp"
    write_tree(outdir, OLD)
    (outdir / "notes.md").write_text("mine\n")
    (outdir / "work").mkdir()
    (outdir / "work" / "data.csv").write_text("1,2\n")
    return outdir


def _after_crash(tmp_path: Path, outdir: Path) -> None:
    recover(outdir)
    _assert_one_generation(outdir, [OLD, NEW])
    assert (outdir / "notes.md").read_text() == "mine\n"
    assert (outdir / "work" / "data.csv").read_text() == "1,2\n"
    write_tree(outdir, NEW)  # no "changed by hand": the next compile just works
    assert _snapshot(outdir) == _clean_tree(tmp_path, NEW)


def test_a_write_killed_at_every_point_leaves_one_generation(tmp_path):
    step, seen = 1, {"old": 0, "new": 0}
    while True:
        case = tmp_path / str(step)
        outdir = _prepare(case)
        killed = _write_killed_at(outdir, NEW, step)
        if not killed:
            break
        recover(outdir)
        seen["new" if read_manifest(outdir) == {r: digest(t) for r, t in NEW.items()} else "old"] += 1
        _after_crash(case, outdir)
        step += 1
    assert step > 10 and seen["old"] > 0 and seen["new"] > 0  # both sides of the commit point were hit


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.integers(1, 16), second=st.integers(1, 16))
def test_a_crash_while_recovering_from_a_crash_is_harmless(tmp_path_factory, first, second):
    case = tmp_path_factory.mktemp("twice")
    outdir = _prepare(case)
    _write_killed_at(outdir, NEW, first)
    _write_killed_at(outdir, NEW, second)  # the recovery itself (and then the write) killed
    _after_crash(case, outdir)


def _variant(tmp_path: Path, slopes: str) -> Path:
    source = (ROOT / "examples/quickstart.mlx").read_text()
    path = tmp_path / f"quickstart-{len(slopes)}.mlx"
    path.write_text(source.replace("[2.0, 3.0, 4.0]", slopes))
    return path


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=st.integers(1, 30))
def test_a_compile_killed_at_a_random_point_leaves_one_generation(tmp_path_factory, step):
    case = tmp_path_factory.mktemp("compile")
    old, new = _variant(case, "[2.0, 3.0, 4.0]"), _variant(case, "[2.0, 5.0]")
    out, clean = case / "out", case / "clean"
    assert _cli("compile", str(new), "-o", str(clean)).returncode == 0
    assert _cli("compile", str(old), "-o", str(out)).returncode == 0
    generations = [_snapshot(out / "quickstart"), _snapshot(clean / "quickstart")]
    result = _cli("compile", str(new), "-o", str(out), env={"MLC_TEST_WRITER_KILL_AT": str(step)})
    assert result.returncode in (0, -signal.SIGKILL), result.stderr
    recover(out / "quickstart")
    assert _snapshot(out / "quickstart") in generations  # the old one or the new one, whole
    again = _cli("compile", str(new), "-o", str(out))
    assert again.returncode == 0, again.stderr
    assert _snapshot(out / "quickstart") == generations[1]


# --- 6. -o oddities are usage errors ------------------------------------------------------


def test_output_root_that_is_a_file_is_a_usage_error(tmp_path):
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file", tmp_path / "file" / "below"):
        result = _cli("compile", "examples/quickstart.mlx", "-o", str(out))
        assert result.returncode == 2, result.stderr
        assert f"{tmp_path / 'file'} is a file, not a folder" in result.stderr
        assert "bug in mlc" not in result.stderr


def test_output_folder_holding_the_source_is_a_usage_error(tmp_path):
    source = tmp_path / "quickstart" / "exp.mlx"
    source.parent.mkdir()
    shutil.copy(ROOT / "examples/quickstart.mlx", source)
    result = _cli("compile", str(source), "-o", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "holds the experiment's source" in result.stderr
    assert sorted(p.name for p in source.parent.iterdir()) == ["exp.mlx"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission bits")
def test_an_unwritable_output_root_is_a_usage_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    result = _cli("compile", "examples/quickstart.mlx", "-o", str(locked))
    assert result.returncode == 2, result.stderr
    assert "Permission denied" in result.stderr


# --- 5. the output does not depend on how mlc is called -------------------------------------

_EXAMPLES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.mlx"))
_COMPILE_ALL = ("import sys\nfrom compiler.cli import main\n"
                "sys.exit(max(main(['compile', f, '-o', sys.argv[1]]) for f in sys.argv[2:]))\n")


def _compile_all(out: Path, sources: list[str], cwd: Path, env: dict | None = None) -> dict:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    result = subprocess.run([sys.executable, "-c", _COMPILE_ALL, str(out), *sources], cwd=cwd,
                            env=environment, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    # .mlc/project is run-time state, not generated: where this checkout's
    # project is, for the ship steps (compiler/backends/shipping.py).
    return {name: _snapshot(out / name, skip=("notes.md", "work", ".mlc/project")) for name in sorted(os.listdir(out))}


def test_the_output_is_the_same_however_mlc_is_called(tmp_path):
    reference = _compile_all(tmp_path / "a", _EXAMPLES, cwd=ROOT)
    assert sorted(reference) == sorted(p.name for p in (ROOT / "out").iterdir())
    absolute = [str(ROOT / e) for e in _EXAMPLES]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checkout = tmp_path / "some" / "other checkout"  # a copy of the project at another path
    shutil.copytree(ROOT / "examples", checkout / "examples")
    (checkout / ".git").mkdir()
    variants = {
        "absolute": (absolute, ROOT, None),
        "another cwd": (absolute, elsewhere, None),
        "relative from another cwd": ([os.path.relpath(p, elsewhere) for p in absolute], elsewhere, None),
        "LC_ALL=C": (_EXAMPLES, ROOT, {"LC_ALL": "C", "LANG": "C"}),
        "LC_ALL=C.UTF-8": (_EXAMPLES, ROOT, {"LC_ALL": "C.UTF-8"}),
        "TZ=Pacific/Kiritimati": (_EXAMPLES, ROOT, {"TZ": "Pacific/Kiritimati"}),
        "a copy of the project": (_EXAMPLES, checkout, None),
    }
    for number, (label, (sources, cwd, env)) in enumerate(variants.items()):
        assert _compile_all(tmp_path / str(number), sources, cwd, env) == reference, label


# --- 4. one path, one spelling; work trees stay out of the generated folders -------------------

_TWO_STAGES = """
site laptop : local {{ cpus = 2; memory = 4GiB{workdir} }}
stage a {{
  out x = file("{first}", size = 1KB)
  cpus = 1
  memory = 1GiB
  time = 1m
  run = "true"
}}
stage b {{
  out y = file("{second}", size = 1KB)
  cpus = 1
  memory = 1GiB
  time = 1m
  run = "true"
}}
"""


def _codes(tmp_path: Path, first: str = "a.txt", second: str = "b.txt", workdir: str | None = None) -> list[str]:
    from compiler.frontend import load

    source = tmp_path / "exp.mlx"
    setting = f'; workdir = "{workdir}"' if workdir is not None else ""
    source.write_text(_TWO_STAGES.format(first=first, second=second, workdir=setting))
    experiment, diags, _ = load(str(source))
    return [d.code for d in diags.sorted() if d.severity == "error"]


@pytest.mark.parametrize("spelling", ["./res/best.txt", "res//best.txt", "res/./best.txt",
                                      "res/tmp/../best.txt", "res/best.txt/", "./res/.//best.txt"])
def test_two_spellings_of_one_output_are_written_twice(tmp_path, spelling):
    assert _codes(tmp_path, "res/best.txt", spelling) == ["E0603"]


@pytest.mark.parametrize("path", ["../up.txt", "res/../../up.txt", "/etc/passwd", ".", "./", "a/.."])
def test_paths_outside_the_work_tree_are_diagnostics(tmp_path, path):
    assert _codes(tmp_path, path) == ["E0310"]


@pytest.mark.parametrize("path", ["s3://bucket/x", "gs://b/x"])
def test_a_uri_as_an_output_path_is_a_diagnostic(tmp_path, path):
    assert _codes(tmp_path, path) == ["E0314"]


@pytest.mark.parametrize("workdir", ["local", "./local", "local/", "slurm", ".mlc", "k8s/x", "transfers",
                                     ".snakemake", "x/../local"])
def test_a_work_tree_inside_the_generated_folders_is_a_diagnostic(tmp_path, workdir):
    assert _codes(tmp_path, workdir=workdir) == ["E0306"]


@pytest.mark.parametrize("workdir", ["work", "data/work", "/scratch/me", "..", "localwork"])
def test_a_work_tree_of_its_own_is_fine(tmp_path, workdir):
    assert _codes(tmp_path, workdir=workdir) == []


def test_outputs_reach_the_ir_in_their_one_spelling(tmp_path):
    from compiler.frontend import load

    source = tmp_path / "exp.mlx"
    source.write_text(_TWO_STAGES.format(first="./res//best.txt", second="out/x/../b.txt/", workdir=""))
    experiment, _, _ = load(str(source))
    assert sorted(o.path for i in experiment.instances for o in i.outputs) == ["out/b.txt", "res/best.txt"]


def test_temporaries_left_by_an_earlier_writer_are_removed(tmp_path):
    write_tree(tmp_path, OLD)
    leftovers = [tmp_path / "local/site/.a.sh.k2j_9x0q.tmp", tmp_path / ".Snakefile.abcd1234.tmp"]
    for path in leftovers:
        path.write_text("half a file")
    (tmp_path / "local/site/.mine.sh.abcd1234.tmp").write_text("not beside a generated file: the user's")
    write_tree(tmp_path, NEW)
    assert not any(path.exists() for path in leftovers)
    assert (tmp_path / "local/site/.mine.sh.abcd1234.tmp").exists()


_ENTRY_PIECES = st.sampled_from(["..", ".", "", "a", "b", "victim.txt", "/", "//", "~", ".mlc", "\x00", "\n"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_ENTRY_PIECES, min_size=1, max_size=6), force=st.booleans())
def test_no_manifest_entry_reaches_outside_the_folder(tmp_path_factory, pieces, force):
    case = tmp_path_factory.mktemp("entry")
    outdir = case / "d1" / "exp"
    write_tree(outdir, OLD)
    for victim in (case / "victim.txt", case / "d1" / "victim.txt", case / "a", case / "b"):
        victim.write_text(VICTIM_TEXT)
    entry = "/".join(pieces)
    if entry.startswith("/"):
        entry = str(case) + entry
    _edit_manifest(outdir, **{entry: digest(VICTIM_TEXT)})
    try:
        write_tree(outdir, NEW, force=force)
    except ManifestError as error:
        assert json.dumps(entry) in str(error)
    for victim in (case / "victim.txt", case / "d1" / "victim.txt", case / "a", case / "b"):
        assert victim.read_text() == VICTIM_TEXT


def test_concurrent_writes_of_one_folder_take_turns(tmp_path):
    outdir = _prepare(tmp_path)
    script = ("import json, sys\nfrom compiler.backends.writer import write_tree\n"
              "for _ in range(15):\n    for files in json.loads(sys.argv[2]):\n"
              "        write_tree(sys.argv[1], files)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    writers = [subprocess.Popen([sys.executable, "-c", script, str(outdir), json.dumps(order)], env=env,
                                stderr=subprocess.PIPE, text=True) for order in ([OLD, NEW], [NEW, OLD])]
    for writer in writers:
        assert writer.wait(timeout=300) == 0, writer.stderr.read()
    _assert_one_generation(outdir, [OLD, NEW])


def test_mlc_run_refuses_a_committed_symlink_without_a_traceback(tmp_path):
    out = tmp_path / "out"
    profile = tmp_path / "profile.d"
    profile.mkdir()
    (out / "quickstart").mkdir(parents=True)
    (out / "quickstart" / "local").symlink_to(profile)
    result = _cli("run", "examples/quickstart.mlx", "-o", str(out), "--dry-run")
    assert result.returncode in (1, 2), result.stderr
    assert "local is a symbolic link" in result.stderr and "bug in mlc" not in result.stderr
    assert list(profile.iterdir()) == []


def test_sources_are_named_from_the_root_of_their_project(tmp_path):
    """Root: the nearest folder with `.git` above the main file (else its own
    folder); an imported file outside it shows as `../...`, never absolute."""
    from compiler.backends.provenance import labels
    from compiler.frontend import load

    quickstart = (ROOT / "examples/quickstart.mlx").read_text()
    site = "site laptop : local {\n  cpus = 2\n  memory = 4GiB\n}\n"
    assert site in quickstart
    for layout, main_label, import_label in (("project", "exp/q.mlx", "../shared/sites.mlx"),
                                             ("loose", "q.mlx", "../../shared/sites.mlx")):
        base = tmp_path / layout
        main = base / "repo" / "exp" / "q.mlx"
        main.parent.mkdir(parents=True)
        (base / "shared").mkdir()
        (base / "shared" / "sites.mlx").write_text(site)
        main.write_text('import "../../shared/sites.mlx"\n' + quickstart.replace(site, ""))
        if layout == "project":
            (base / "repo" / ".git").write_text("gitdir: elsewhere\n")  # a git worktree's marker
        trees = [_compile_all(base / f"out{n}", [source], cwd)
                 for n, (source, cwd) in enumerate([(str(main), tmp_path), ("q.mlx", main.parent)])]
        assert trees[0] == trees[1]
        make_data = trees[0]["quickstart"]["local/laptop/make_data.sh"][0].decode()
        assert f"Generated by mlc from {main_label}:" in make_data, make_data[:200]
        config = trees[0]["quickstart"]["config.yaml"][0].decode()
        assert str(tmp_path) not in config and str(tmp_path) not in make_data
        experiment, _, _ = load(str(main))
        assert sorted(labels(experiment).values()) == sorted([main_label, import_label])
