"""Symlink-proof access to the files of one folder (the generated folder).

Every path is relative to the folder and is walked one component at a time
from a descriptor of the folder, each component opened with O_NOFOLLOW: a
symbolic link anywhere inside (committed to out/, say) is refused, never
followed out of the folder. Reads open with O_NONBLOCK and accept regular
files only, so a FIFO or a device where a generated file belongs cannot
hang or feed the writer."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import stat
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class FolderError(Exception):
    """The output folder cannot be used safely as it is (exit 2: the user
    must look at it); nothing was written."""


class UnsafePath(FolderError):
    def __init__(self, root: Path, rel: str, why: str) -> None:
        self.path = rel
        where = root / rel if rel else root
        super().__init__(
            f"{where} {why}; mlc writes only real files and folders inside {root} "
            "and never follows a link out of it: remove or move it, then compile again"
        )


class Folder:
    """One folder, opened once; paths are '/'-separated and relative to it
    (validated by the caller: no '', '.' or '..' components)."""

    def __init__(self, root: str | os.PathLike, create: bool = False) -> None:
        self.root = Path(root)
        self.fd: int | None = None
        self._folders: dict[tuple[str, ...], int] = {}  # see _folder
        self._missing: set[tuple[str, ...]] = set()  # folders found missing (and not created since)
        if create:
            try:
                self.root.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(FileExistsError):
                    os.mkdir(self.root, 0o755)
            except OSError as err:
                raise FolderError(f"cannot create the output folder {self.root}: "
                                  f"{_blocker(self.root, err)}") from None
        try:
            self.fd = os.open(self.root, _DIR_FLAGS)
        except FileNotFoundError:
            pass  # nothing generated yet: every file is missing
        except OSError as err:
            raise UnsafePath(self.root, "", self._why(err, _lstat(self.root))) from None

    def close(self) -> None:
        for fd in self._folders.values():
            os.close(fd)
        self._folders.clear()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "Folder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- walking ---------------------------------------------------------

    @staticmethod
    def _why(err: OSError, info: os.stat_result | None) -> str:
        if info is not None and stat.S_ISLNK(info.st_mode):
            return "is a symbolic link"
        if info is not None and not stat.S_ISDIR(info.st_mode):
            return "is not a folder"
        return f"cannot be opened ({err.strerror})"

    def _locate(self, rel: str, create: bool) -> tuple[int | None, str]:
        """(descriptor of rel's folder or None if missing, rel's name)."""
        *folders, name = rel.split("/")
        if self.fd is None:
            if not create:
                return None, name
            raise FileNotFoundError(self.root)
        return self._folder(tuple(folders), create), name

    def _folder(self, folders: tuple[str, ...], create: bool) -> int | None:
        """A descriptor of a folder inside, each component opened with
        O_NOFOLLOW from its parent's; kept until the folder is removed or
        this Folder closed: a write of thousands of files in a few folders
        walks each folder once, not once per file and operation. A folder
        found missing is remembered too (until this Folder creates it): the
        first write of a folder asks after thousands of files in it."""
        if not folders:
            return self.fd
        found = self._folders.get(folders)
        if found is not None:
            return found
        if not create and folders in self._missing:
            return None
        parent = self._folder(folders[:-1], create)
        if parent is None:
            return None
        part = folders[-1]
        try:
            opened = os.open(part, _DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                self._missing.add(folders)
                return None
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=parent)
            opened = os.open(part, _DIR_FLAGS, dir_fd=parent)
        except OSError as err:
            raise UnsafePath(self.root, "/".join(folders), self._why(err, self._lstat(parent, part))) from None
        self._folders[folders] = opened
        self._missing.discard(folders)
        return opened

    def _forget(self, rel: str) -> None:
        """Closes the kept descriptors of folder rel and of those inside it
        (it is being removed)."""
        prefix = tuple(rel.split("/"))
        for folders in [f for f in self._folders if f[: len(prefix)] == prefix]:
            os.close(self._folders.pop(folders))

    @staticmethod
    def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            return None

    # --- operations --------------------------------------------------------

    def read(self, rel: str) -> bytes | None:
        """The bytes of a regular file, or None when nothing is there."""
        with self._open_regular(rel) as stream:
            return None if stream is None else stream.read()

    def sha256(self, rel: str) -> str | None:
        """The SHA-256 of a regular file, read in blocks (a huge file where a
        generated one belongs costs time, not memory), or None."""
        with self._open_regular(rel) as stream:
            if stream is None:
                return None
            state = hashlib.sha256()
            while block := stream.read(1 << 20):
                state.update(block)
            return state.hexdigest()

    @contextlib.contextmanager
    def _open_regular(self, rel: str):
        parent, name = self._locate(rel, create=False)
        if parent is None:
            yield None
            return
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=parent)
        except FileNotFoundError:
            yield None
            return
        except OSError as err:
            info = self._lstat(parent, name)
            if info is not None and stat.S_ISLNK(info.st_mode):
                raise UnsafePath(self.root, rel, "is a symbolic link") from None
            raise UnsafePath(self.root, rel, f"cannot be read ({err.strerror})") from None
        with os.fdopen(fd, "rb") as stream:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UnsafePath(self.root, rel, "is not a regular file")
            yield stream

    @contextlib.contextmanager
    def locked(self, rel: str):
        """Holds an exclusive lock on the file rel (created if missing)."""
        parent, name = self._locate(rel, create=True)
        try:
            fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=parent)
        except OSError as err:
            raise UnsafePath(self.root, rel, f"cannot be opened ({err.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when closed, also by a killed process
            yield
        finally:
            os.close(fd)

    def exists(self, rel: str) -> bool:
        parent, name = self._locate(rel, create=False)
        return parent is not None and self._lstat(parent, name) is not None

    def write_new(self, rel: str, data: bytes, mode: int) -> None:
        """Creates rel (and its folders); an old file of that name is replaced."""
        parent, name = self._locate(rel, create=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:  # nearly always a fresh name (the staging area was emptied): no unlink first
            fd = os.open(name, flags, 0o600, dir_fd=parent)
        except FileExistsError:  # a file, or a link (never followed: it is the entry that goes)
            os.unlink(name, dir_fd=parent)
            fd = os.open(name, flags, 0o600, dir_fd=parent)
        # Plain descriptor writes, not a file object: a folder of thousands
        # of files pays no fstat, ioctl and lseek per file.
        try:
            os.fchmod(fd, mode)  # not the umask's: the same bits on every machine
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    def replace(self, source: str, target: str) -> None:
        """Renames source over target (creating target's folders): atomic."""
        src_parent, src_name = self._locate(source, create=False)
        if src_parent is None:
            raise FileNotFoundError(self.root / source)
        dst_parent, dst_name = self._locate(target, create=True)
        try:
            os.replace(src_name, dst_name, src_dir_fd=src_parent, dst_dir_fd=dst_parent)
        except IsADirectoryError:
            raise UnsafePath(self.root, target, "is a folder") from None

    def unlink(self, rel: str) -> bool:
        parent, name = self._locate(rel, create=False)
        if parent is None:
            return False
        try:
            os.unlink(name, dir_fd=parent)
        except FileNotFoundError:
            return False
        return True

    def remove_empty_folders(self, rel: str) -> None:
        """Removes rel's folders that are now empty, deepest first (never the root)."""
        folders = rel.split("/")[:-1]
        while folders:
            self._forget("/".join(folders))
            parent, name = self._locate("/".join(folders), create=False)
            if parent is None:
                return
            try:
                os.rmdir(name, dir_fd=parent)
            except OSError:  # not empty (something else lives there), or gone
                return
            folders.pop()

    def names(self, rel: str) -> list[str]:
        """The entries of folder `rel` ("" for the root); [] when it is missing."""
        parent, _ = self._locate(f"{rel}/." if rel else ".", create=False)
        return [] if parent is None else sorted(os.listdir(parent))

    def remove_tree(self, rel: str) -> None:
        """Removes a folder of the writer's own (its staging area), never
        following a link inside it."""
        self._forget(rel)
        parent, name = self._locate(rel, create=False)
        if parent is not None:
            _remove_entry(parent, name)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _blocker(path: Path, err: OSError) -> str:
    """Why a folder cannot be created at `path`: the ancestor in the way, or
    the system's reason (no permission, a full disk)."""
    for ancestor in [path, *path.parents]:
        try:
            info = os.stat(ancestor)  # the folders above the output folder are the user's: links are fine
        except OSError:
            continue
        if info is not None:
            if not stat.S_ISDIR(info.st_mode):
                return f"{ancestor} is a file, not a folder"
            break
    return err.strerror or str(err)


def _remove_entry(parent: int, name: str) -> None:
    try:
        info = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(name, dir_fd=parent)
        return
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    try:
        for entry in list(os.scandir(fd)):
            _remove_entry(fd, entry.name)
    finally:
        os.close(fd)
    try:
        os.rmdir(name, dir_fd=parent)
    except OSError as err:
        if err.errno != errno.ENOENT:
            raise
