"""The writer owns only what it generated: it rewrites and removes its own
files, refuses to clobber hand edits, and never touches anything else."""

from __future__ import annotations

import os
import stat

import pytest

from compiler.backends.writer import (
    MANIFEST,
    WriteConflict,
    check_tree,
    read_manifest,
    write_tree,
)

FILES = {"Snakefile": "rule all:\n", "local/site/a.sh": "#!/bin/bash\n", "plan.json": "{}\n"}


def test_first_write_creates_files_and_manifest(tmp_path):
    result = write_tree(tmp_path, FILES)
    assert result.written == sorted(FILES)
    for rel, text in FILES.items():
        assert (tmp_path / rel).read_text() == text
    assert sorted(read_manifest(tmp_path)) == sorted(FILES)
    assert os.stat(tmp_path / "local/site/a.sh").st_mode & stat.S_IXUSR
    assert not list(tmp_path.rglob("*.tmp"))


def test_rewriting_the_same_files_changes_nothing(tmp_path):
    write_tree(tmp_path, FILES)
    before = {rel: (tmp_path / rel).stat().st_mtime_ns for rel in FILES}
    result = write_tree(tmp_path, FILES)
    assert result.changed == [] and result.unchanged == sorted(FILES)
    assert before == {rel: (tmp_path / rel).stat().st_mtime_ns for rel in FILES}


def test_files_no_longer_generated_are_removed_and_user_files_survive(tmp_path):
    write_tree(tmp_path, FILES)
    (tmp_path / "notes.md").write_text("mine")
    (tmp_path / "local/site/mine.txt").write_text("mine too")
    smaller = {k: v for k, v in FILES.items() if k != "local/site/a.sh"}
    result = write_tree(tmp_path, smaller)
    assert result.removed == ["local/site/a.sh"]
    assert not (tmp_path / "local/site/a.sh").exists()
    assert (tmp_path / "notes.md").read_text() == "mine"
    assert (tmp_path / "local/site/mine.txt").read_text() == "mine too"


def test_emptied_directories_are_removed(tmp_path):
    write_tree(tmp_path, FILES)
    write_tree(tmp_path, {"Snakefile": "rule all:\n"})
    assert not (tmp_path / "local").exists()


@pytest.mark.parametrize("change", ["edit", "stale edit"])
def test_hand_edits_are_refused_unless_forced(tmp_path, change):
    write_tree(tmp_path, FILES)
    (tmp_path / "local/site/a.sh").write_text("#!/bin/bash\necho mine\n")
    new = dict(FILES, **{"local/site/a.sh": "#!/bin/bash\necho new\n"})
    if change == "stale edit":
        new.pop("local/site/a.sh")
    with pytest.raises(WriteConflict) as error:
        write_tree(tmp_path, new)
    assert error.value.paths == ["local/site/a.sh"]
    assert "local/site/a.sh" in str(error.value)
    assert (tmp_path / "local/site/a.sh").read_text() == "#!/bin/bash\necho mine\n"
    write_tree(tmp_path, new, force=True)
    assert check_tree(tmp_path, new) == []


def test_a_user_file_where_mlc_wants_to_write_is_refused(tmp_path):
    (tmp_path / "Snakefile").write_text("my own workflow\n")
    with pytest.raises(WriteConflict):
        write_tree(tmp_path, FILES)
    assert (tmp_path / "Snakefile").read_text() == "my own workflow\n"


def test_an_edit_that_matches_the_new_output_is_no_conflict(tmp_path):
    write_tree(tmp_path, FILES)
    new = dict(FILES, Snakefile="rule all:\n    input: []\n")
    (tmp_path / "Snakefile").write_text(new["Snakefile"])
    write_tree(tmp_path, new)


def test_check_tree_lists_missing_changed_and_stale_files(tmp_path):
    assert check_tree(tmp_path, FILES) == sorted(FILES)
    write_tree(tmp_path, FILES)
    assert check_tree(tmp_path, FILES) == []
    (tmp_path / "plan.json").write_text("[]\n")
    changed = dict(FILES, Snakefile="other\n")
    del changed["local/site/a.sh"]
    assert check_tree(tmp_path, changed) == ["Snakefile", "local/site/a.sh", "plan.json"]
    assert (tmp_path / "Snakefile").read_text() == FILES["Snakefile"]  # check writes nothing


@pytest.mark.parametrize("bad", ["/etc/passwd", "../escape", "a/../../b", MANIFEST])
def test_paths_outside_the_folder_are_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        write_tree(tmp_path / "out", {bad: "x"})


def test_an_interrupted_write_is_finished_by_the_next_one(tmp_path, monkeypatch):
    import compiler.backends.writer as writer

    write_tree(tmp_path, FILES)
    new = {"Snakefile": "rule all: new\n", "local/other/b.sh": "#!/bin/bash\n"}
    finish = writer._apply

    def crash(folder):  # killed right after the commit point
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "_apply", crash)
    with pytest.raises(KeyboardInterrupt):
        write_tree(tmp_path, new)
    assert (tmp_path / ".mlc/journal.json").exists()
    assert check_tree(tmp_path, new) == ["Snakefile", "local/other/b.sh", "local/site/a.sh", "plan.json"]
    monkeypatch.setattr(writer, "_apply", finish)
    write_tree(tmp_path, new)
    assert check_tree(tmp_path, new) == [] and sorted(read_manifest(tmp_path)) == sorted(new)
    assert not (tmp_path / ".mlc/journal.json").exists() and not (tmp_path / ".mlc/next").exists()


def test_an_unchanged_write_rewrites_not_even_the_manifest(tmp_path):
    write_tree(tmp_path, FILES)
    before = (tmp_path / MANIFEST).stat().st_mtime_ns
    write_tree(tmp_path, FILES)
    assert (tmp_path / MANIFEST).stat().st_mtime_ns == before


def test_write_new_replaces_an_old_file_or_link_and_never_follows_the_link(tmp_path):
    from compiler.backends.folder import Folder

    outside, root = tmp_path / "outside.txt", tmp_path / "root"
    outside.write_text("theirs\n")
    root.mkdir()
    (root / "old.txt").write_text("old\n")
    os.symlink(outside, root / "link.sh")
    with Folder(root) as folder:
        folder.write_new("old.txt", b"new\n", 0o644)
        folder.write_new("link.sh", b"#!/bin/bash\n", 0o755)
    assert (root / "old.txt").read_text() == "new\n"
    assert not (root / "link.sh").is_symlink() and (root / "link.sh").read_text() == "#!/bin/bash\n"
    assert stat.S_IMODE((root / "link.sh").stat().st_mode) == 0o755
    assert outside.read_text() == "theirs\n"


def test_a_folder_found_missing_is_found_once_written(tmp_path):
    from compiler.backends.folder import Folder

    with Folder(tmp_path) as folder:
        assert folder.sha256("a/b/c.txt") is None and not folder.exists("a/b")
        folder.write_new("a/b/c.txt", b"x", 0o644)
        assert folder.read("a/b/c.txt") == b"x" and folder.exists("a/b") and folder.names("a") == ["b"]
