"""The result cache, run by a step's script in its site's work tree:
`python3 step_cache.py RECIPE COMMAND...`. Standard library only: the
compiler copies this file into the output folder (local/step_cache.py).

A step's key is the hash of its recipe (computed at compile time from the
command, values, image, environment and output paths: backends/cache_recipe)
and of its inputs' keys, taken here at run time: the content of an upstream
output or a project file, a data set's URI with the size and mtime of what
the URI names. Results are kept in `.mlc/cache/<key>/files/<output path>`
with a `record.json` beside them; the stage-visible path is a hard link to
the cached file (a copy across file systems), so transfers and consumers see
ordinary files. With a result under the key, the command does not run: the
visible paths are linked from the cache again.

Lines starting `mlc-cache:` on stdout say what happened (`mlc run` reads
them from the step's log). The same line is kept in `.mlc/cache/notes/`
(note_name), where a step whose log stays on a remote site (a Slurm job's)
leaves it for the workflow machine to fetch."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path(".mlc") / "cache"
SHOWN = CACHE / "shown"  # <hash of a visible output path>.json: which key it shows
STEP_CACHE_HERE = ".mlc/step_cache.py"  # this file, shipped under a remote work root
NOTES = CACHE / "notes"  # <note_name(step)>: the step's last `mlc-cache:` line
# Passed on to the command: a scheduler's warning before the time limit
# (Slurm's --signal), a cancellation, Ctrl-C.
FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2")
CHUNK = 1 << 20
CODE = "<code>"  # the input name of the experiment's `code` paths (backends/cache_recipe.CODE)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# Folders Python writes into project code by itself when a module is
# imported: not part of what a project path holds.
GENERATED_IN_PROJECT = frozenset({"__pycache__"})


def content_key(path: Path, skip: frozenset[str] = frozenset()) -> str:
    """The content of a file, or of a directory tree (names, kinds and file
    contents; not mtimes, so a copy made elsewhere has the same key), but
    for folders named in `skip`."""
    if path.is_symlink() and not path.exists():
        return "dangling:" + os.readlink(path)
    if path.is_file():
        return "file:" + file_digest(path)
    if not path.is_dir():
        return "missing"
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        for name in sorted(files):
            full = Path(root) / name
            digest.update(json.dumps([str(full.relative_to(path)), content_key(full)]).encode())
        for name in dirs:
            digest.update(json.dumps([str((Path(root) / name).relative_to(path)), "dir"]).encode())
    return "dir:" + digest.hexdigest()


def dataset_key(uri: str, path: Path, checksum: str | None) -> str:
    """A data set is too big to read: its URI with the size and mtime of
    what it names (a declared checksum instead, when there is one)."""
    if checksum:
        return f"checksum:{checksum}"
    try:
        stat = path.stat()
    except OSError:
        return f"uri:{uri}"
    return f"uri:{uri}:size={stat.st_size}:mtime={stat.st_mtime_ns}"


def input_key(spec: dict) -> str:
    path = Path(spec["path"])
    if spec["kind"] == "dataset":
        return dataset_key(spec.get("uri", spec["path"]), path, spec.get("checksum"))
    return content_key(path, GENERATED_IN_PROJECT if spec["kind"] == "project" else frozenset())


def step_key(recipe: dict, inputs: dict[str, str]) -> str:
    document = json.dumps({"recipe": recipe["recipe"], "inputs": inputs}, sort_keys=True)
    return hashlib.sha256(document.encode()).hexdigest()


def input_keys(recipe: dict) -> dict[str, str]:
    """name#position -> key, for every path an input stands for."""
    keys = {}
    for spec in recipe["inputs"]:
        keys[f"{spec['name']}#{spec['position']}"] = input_key(spec)
    return keys


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link `source` (a file or a tree) at `target`; copy what cannot be
    linked (another file system)."""
    if source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for child in sorted(source.iterdir()):
            _link_tree(child, target / child.name)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _touch(path: Path) -> None:
    """A re-used result is new to this workflow: Snakemake compares mtimes."""
    now = time.time()
    os.utime(path, (now, now))


def complete(entry: Path, recipe: dict) -> bool:
    if not (entry / "record.json").is_file():
        return False
    return all((entry / "files" / out["path"]).exists() for out in recipe["outputs"])


def show(entry: Path, key: str, recipe: dict) -> None:
    """Make the cached result the one at the visible paths."""
    for out in recipe["outputs"]:
        visible = Path(out["path"])
        _remove(visible)
        _link_tree(entry / "files" / out["path"], visible)
        _touch(visible)
        _note_shown(out["path"], key)


def _note_shown(path: str, key: str) -> None:
    SHOWN.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(path.encode()).hexdigest()[:32]
    tmp = SHOWN / f".{name}.{os.getpid()}"
    tmp.write_text(json.dumps({"path": path, "key": key}) + "\n", encoding="utf-8")
    os.replace(tmp, SHOWN / f"{name}.json")


def store(key: str, recipe: dict, inputs: dict[str, str], seconds: float) -> Path:
    """Keep the visible outputs under the key (linked, not moved: the visible
    paths stay as they are). Built aside and renamed into place, so a
    concurrent step with the same key never sees half an entry."""
    entry = CACHE / key
    tmp = CACHE / f".tmp-{key}-{os.getpid()}"
    _remove(tmp)
    tmp.mkdir(parents=True)  # also for a step without outputs: its record says it ran
    for out in recipe["outputs"]:
        _link_tree(Path(out["path"]), tmp / "files" / out["path"])
    record = {
        "key": key, "step": recipe["step"], "experiment": recipe.get("experiment", ""),
        "params": recipe["parts"]["params"], "image": recipe["parts"]["image"], "env": recipe["parts"]["env"],
        "command": recipe["parts"]["command"],
        "inputs": [{**spec, "key": inputs[f"{spec['name']}#{spec['position']}"]} for spec in recipe["inputs"]],
        "outputs": recipe["outputs"], "recipe": recipe["recipe"],
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "seconds": round(seconds, 3),
    }
    (tmp / "record.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    try:
        os.rename(tmp, entry)
    except OSError:  # another step stored the same key meanwhile: keep theirs
        _remove(tmp)
    return entry


def why_not_cached(recipe: dict, inputs: dict[str, str]) -> str:
    """What differs from the newest cached result of the same step here."""
    previous = None
    for record_path in CACHE.glob("*/record.json"):
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if record.get("step") == recipe["step"] and (previous is None or record["created"] > previous["created"]):
            previous = record
    if previous is None:
        return "no earlier result of this step in this work tree"
    changes = []
    parts = recipe["parts"]
    old_params, new_params = previous.get("params", {}), parts["params"]
    for name in sorted(set(old_params) | set(new_params)):
        if old_params.get(name) != new_params.get(name):
            changes.append(f"{name} {old_params.get(name, '(unset)')} -> {new_params.get(name, '(unset)')}")
    if changes:
        changes = ["params: " + ", ".join(changes)]
    for part in ("command", "image", "env"):
        if previous.get(part) != parts[part]:
            changes.append(f"{part} changed")
    old_inputs = {f"{i['name']}#{i['position']}": i.get("key") for i in previous.get("inputs", [])}
    changed = sorted({name.split("#")[0] for name, key in inputs.items() if old_inputs.get(name) != key})
    if CODE in changed:  # the experiment's `code` paths (backends/cache_recipe.CODE)
        changed.remove(CODE)
        changes.append("code changed")
    if changed:
        changes.append("input " + ", ".join(changed) + " changed")
    if not changes and previous.get("outputs") != recipe["outputs"]:
        changes.append("output paths changed")
    return "; ".join(changes) or "its result was removed from the cache"


def note_name(step: str) -> str:
    """The file in NOTES that holds a step's line (a step's id may hold any character)."""
    return hashlib.sha256(step.encode()).hexdigest()[:32]


def _say(step: str, line: str) -> None:
    print(line, flush=True)
    try:
        NOTES.mkdir(parents=True, exist_ok=True)
        tmp = NOTES / f".{note_name(step)}.{os.getpid()}"
        tmp.write_text(line + "\n", encoding="utf-8")
        os.replace(tmp, NOTES / note_name(step))
    except OSError:  # the note is for the report only
        pass


def run(command: list[str]) -> int:
    """Runs the command and passes FORWARDED signals on to it; its status
    (128 + N when signal N ended it)."""
    children: list[subprocess.Popen] = []
    for name in FORWARDED:  # before the start: no signal may end this process alone
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda number, frame: [c.send_signal(number) for c in children])
    children.append(subprocess.Popen(command))
    status = children[0].wait()
    return status if status >= 0 else 128 - status


def shown_keys(tree: Path) -> set[str]:
    """The keys some visible result of the work tree still holds."""
    keys = set()
    for record_path in sorted((tree / SHOWN).glob("*.json")):
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and (tree / str(record.get("path", ""))).exists():
            keys.add(str(record.get("key", "")))
    return keys


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def unreferenced(tree: Path) -> list[dict]:
    """The cached results of a work tree that no visible result shows (`mlc
    clean`): {path, step, params, size} each. Not an entry being stored
    (`.tmp-*`), not the bookkeeping (shown/, notes/): only key folders."""
    keep = shown_keys(tree)
    entries = []
    cache = tree / CACHE
    for entry in sorted(cache.iterdir()) if cache.is_dir() else []:
        if len(entry.name) != 64 or entry.name.strip("0123456789abcdef") or entry.name in keep or not entry.is_dir():
            continue
        try:
            record = json.loads((entry / "record.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        entries.append({"path": str(entry), "step": str(record.get("step", "?")),
                        "params": record.get("params", {}), "size": _size(entry)})
    return entries


def tidy(delete: bool) -> int:
    """`step_cache.py --clean [--delete]`, run in a remote work root by `mlc
    clean`: one JSON line per unreferenced entry (removed with --delete)."""
    for entry in unreferenced(Path(".")):
        if delete:
            shutil.rmtree(entry["path"])
        print(json.dumps(entry, sort_keys=True), flush=True)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--clean"]:
        return tidy(argv[1:] == ["--delete"])
    recipe, command = json.loads(argv[0]), argv[1:]
    inputs = input_keys(recipe)
    key = step_key(recipe, inputs)
    entry = CACHE / key
    if complete(entry, recipe):
        show(entry, key, recipe)
        _say(recipe["step"], f"mlc-cache: re-used {key[:12]} (record: {entry / 'record.json'})")
        return 0
    _say(recipe["step"], f"mlc-cache: running {key[:12]}: {why_not_cached(recipe, inputs)}")
    _remove(entry)  # what is left of a result whose files were deleted
    for out in recipe["outputs"]:
        _remove(Path(out["path"]))
    started = time.monotonic()
    status = run(command)
    if status != 0:
        return status
    missing = [out["path"] for out in recipe["outputs"] if not Path(out["path"]).exists()]
    if missing:
        print(f"mlc-cache: the command succeeded but did not write {', '.join(missing)}", file=sys.stderr)
        return 1
    entry = store(key, recipe, inputs, time.monotonic() - started)
    for out in recipe["outputs"]:
        _note_shown(out["path"], key)
    print(f"mlc-cache: stored {key[:12]} (record: {entry / 'record.json'})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
