"""The writer's records inside the folder: `.mlc/manifest.json` (every
generated path with the SHA-256 of what was written) and, while a write is
being switched into place, `.mlc/journal.json`.

Both are committed or editable by anyone, so nothing in them is trusted:
every path must be a normalised relative path inside the folder and outside
`.mlc/` (the writer's records and the run state), every hash 64 hex digits.
Anything else is a ManifestError, before any file is touched."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .folder import Folder, FolderError

MANIFEST = ".mlc/manifest.json"
JOURNAL = ".mlc/journal.json"
STAGING = ".mlc/next"  # the new generation, before it is switched into place
LOCK = ".mlc/writer.lock"  # one write at a time (two `mlc run`s of one experiment)
PRIVATE = ".mlc"  # the writer's records and the run state: never a generated path

_HASH = re.compile(r"[0-9a-f]{64}")


class ManifestError(FolderError):
    def __init__(self, path: Path, entry: object, why: str) -> None:
        shown = f"entry {json.dumps(entry, ensure_ascii=True)}: " if entry is not None else ""
        super().__init__(
            f"{path}: {shown}{why}; mlc did not touch any file. Restore the file from version "
            "control, or delete it (mlc then treats every file in the folder as the user's)"
        )


def digest(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def path_problem(rel: object) -> str | None:
    """Why `rel` is not a generated path inside the folder, or None."""
    if not isinstance(rel, str) or not rel:
        return "a path must be a non-empty string"
    if rel.startswith("/"):
        return "an absolute path"
    if not rel.isprintable() or "\\" in rel:  # at C speed: a folder holds thousands of paths
        return "a path with a control character or a backslash"
    parts = rel.split("/")
    if ".." in parts:
        return "a path that leaves the folder (`..`)"
    if "" in parts or "." in parts:
        return "a path that is not normalised (empty or `.` components)"
    if parts[0] == PRIVATE:
        return f"a path inside {PRIVATE}/, which holds mlc's records and the run state"
    return None


def encode(files: dict[str, str]) -> bytes:
    """The manifest of `files` (path -> hash), byte-stable."""
    return (json.dumps({"files": dict(sorted(files.items()))}, indent=2, sort_keys=True) + "\n").encode()


def read_manifest(folder: Folder) -> dict[str, str]:
    """The validated manifest (empty when there is none)."""
    data = _read_json(folder, MANIFEST)
    if data is None:
        return {}
    return _hashes(folder, MANIFEST, data, "files")


def read_journal(folder: Folder) -> dict | None:
    """The validated journal of an interrupted write, or None."""
    data = _read_json(folder, JOURNAL)
    if data is None:
        return None
    return {
        "manifest": _hashes(folder, JOURNAL, data, "manifest"),
        "remove": _hashes(folder, JOURNAL, data, "remove"),
        "write": _paths(folder, JOURNAL, data.get("write")),
    }


def encode_journal(manifest: dict[str, str], write: list[str], remove: dict[str, str]) -> bytes:
    document = {"manifest": dict(sorted(manifest.items())), "remove": dict(sorted(remove.items())),
                "write": sorted(write)}
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def _read_json(folder: Folder, rel: str) -> dict | None:
    raw = folder.read(rel)
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ManifestError(folder.root / rel, None, f"not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise ManifestError(folder.root / rel, None, "not a JSON object")
    return data


def _hashes(folder: Folder, rel: str, data: dict, key: str) -> dict[str, str]:
    entries = data.get(key, {})
    if not isinstance(entries, dict):
        raise ManifestError(folder.root / rel, key, "not a map from paths to hashes")
    for path, value in entries.items():
        problem = path_problem(path)
        if problem:
            raise ManifestError(folder.root / rel, path, problem)
        if not isinstance(value, str) or not _HASH.fullmatch(value):
            raise ManifestError(folder.root / rel, path, "its hash is not 64 hex digits")
    return dict(entries)


def _paths(folder: Folder, rel: str, entries: object) -> list[str]:
    if not isinstance(entries, list):
        raise ManifestError(folder.root / rel, "write", "not a list of paths")
    for path in entries:
        problem = path_problem(path)
        if problem:
            raise ManifestError(folder.root / rel, path, problem)
    return list(entries)
