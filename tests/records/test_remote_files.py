"""The sizes query of the run records (compiler/records/remote_files.py),
run here as it runs on a login or ssh host: sizes for files and folders,
a sha256 for files up to the limit, nothing for a path that is missing;
hostile names are only ever arguments."""

from __future__ import annotations

import hashlib
import subprocess

from compiler.records import remote_files
from compiler.runner.remote_results import query


def _ask(root, paths, limit):
    result = subprocess.run(query("", [], str(root), paths, remote_files.script(limit)), capture_output=True,
                            text=True, check=True)
    return {paths[int(i)]: (int(size), digest) for i, size, digest in (line.split() for line in
                                                                        result.stdout.splitlines())}


def test_sizes_and_checksums_of_files_and_folders(tmp_path):
    (tmp_path / "small.txt").write_text("hello\n")
    (tmp_path / "big.bin").write_bytes(b"x" * 5000)
    folder = tmp_path / "ckpt dir"
    (folder / "sub").mkdir(parents=True)
    (folder / "total").write_bytes(b"a" * 10)
    (folder / "sub" / "it's $(x)").write_bytes(b"b" * 7)
    found = _ask(tmp_path, ["small.txt", "big.bin", "ckpt dir", "missing", "$(touch pwned)"], limit=1000)
    assert found == {"small.txt": (6, hashlib.sha256(b"hello\n").hexdigest()), "big.bin": (5000, "-"),
                     "ckpt dir": (17, "-")}
    assert not (tmp_path / "pwned").exists()


def test_a_root_that_is_not_there_reports_nothing(tmp_path):
    assert _ask(tmp_path / "nowhere", ["a"], limit=10) == {}
