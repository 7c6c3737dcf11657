"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from modelyard.errors import AlreadyExists, StorageError

# Atomic writes here and in the artifact store write to `.tmp-<random>` beside their target:
# a write in progress, or one killed mid-way.
TEMP_PREFIX = ".tmp-"
# The names those writes make (a uuid's 32 hex digits; mkstemp's 8 characters in older
# versions), and only those: a user's own file called `.tmp-notes.txt` is not ours to remove.
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"[A-Za-z0-9_]{8,32}")

_STORAGE_PROBLEMS = {
    errno.ENOSPC: "the disk is full: free space there, or move the workspace to a larger disk",
    errno.EDQUOT: "the disk quota is used up: free space there, or raise the quota",
    errno.EROFS: "the file system is read-only: remount it writable, or use a workspace on a"
    " writable disk",
    errno.EACCES: "permission denied: give this user write access, or use a workspace of its own",
    errno.EPERM: "permission denied: give this user write access, or use a workspace of its own",
}


def storage_error_for(error: OSError, path: Path | str) -> StorageError | None:
    """A disk's refusal (full, read-only, not ours) as one line; None for any other OSError."""
    problem = _STORAGE_PROBLEMS.get(error.errno or 0)
    if problem is None:
        return None
    return StorageError(
        f"cannot write {path}: {problem}; nothing was half-written",
        path=str(path),
        errno=errno.errorcode.get(error.errno or 0, str(error.errno)),
    )


@contextlib.contextmanager
def storage_errors(path: Path | str) -> Iterator[None]:
    """Raise a disk's refusal inside the block as StorageError, naming `path`."""
    try:
        yield
    except OSError as error:
        translated = storage_error_for(error, path)
        if translated is None:
            raise
        raise translated from error


def write_bytes_atomic(
    path: Path, data: bytes, mode: int | None = None, durable: bool = True
) -> None:
    """`mode` None: the umask's, as for any new file; a `mode` is set exactly (0600 for a
    secret). `durable=False` skips the fsync: for caches, whose entries are rebuilt if lost."""
    with storage_errors(path):
        _write_bytes_atomic(path, data, mode, durable)


def _write_bytes_atomic(path: Path, data: bytes, mode: int | None, durable: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp_name = path.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
    # Created as open() creates files (0666 less the umask), not as mkstemp does (0600): the
    # file is renamed into place, so its temp mode would become the published file's mode.
    # O_EXCL | O_NOFOLLOW: never write through a link planted under the temp name.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        with open(os.open(temp_name, flags, 0o666 if mode is None else mode), "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def write_json_atomic(path: Path, data: Any, mode: int | None = None) -> None:
    write_bytes_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), mode)


@contextlib.contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """An advisory lock across processes on this machine, released when the block ends."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _remove_empty_folder(folder: Path) -> None:
    if not folder.is_dir() or any(folder.iterdir()):
        raise AlreadyExists(
            f"{folder} is no longer an empty folder (something was written there meanwhile):"
            " nothing was written over it; choose a missing or empty folder",
            path=str(folder),
        )
    folder.rmdir()


@contextlib.contextmanager
def folder_written_atomically(destination: Path) -> Iterator[Path]:
    """A scratch folder beside `destination` (not created) for the block to fill; it becomes
    `destination`, which must be missing or an empty folder, only if the block succeeds."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.parent / f".{destination.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)  # left by a write that was killed
    try:
        yield partial
        if destination.exists():
            _remove_empty_folder(destination)
        partial.rename(destination)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def materialise_once(target: Path, fill: Callable[[Path], None]) -> Path:
    """`target`, filled by `fill` in a scratch folder beside it and renamed into place, unless
    it is there already; several processes may race, the first rename wins and the others'
    scratch folders go."""
    if target.is_dir():
        return target
    staging = target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}")
    try:
        with storage_errors(staging):
            fill(staging)
            staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():  # not another process materialising it first
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def remove_stale_temp_files(
    top: Path, max_age_s: float, skip: Callable[[Path], bool] = lambda _folder: False
) -> list[Path]:
    """Remove the temp files and folders of atomic writes under `top` that nothing touched for
    `max_age_s`: what a write killed between its temp and its rename left (`kill -9` during an
    upload). Younger ones may be writes in progress and stay. Folders for which `skip` is true
    are not entered; symbolic links are removed as links, never followed."""
    cutoff = time.time() - max_age_s
    removed = []
    for folder, dirnames, filenames in os.walk(top):
        current = Path(folder)
        dirnames[:] = [name for name in dirnames if not skip(current / name)]
        for name in [*dirnames, *filenames]:
            if _TEMP_NAME.fullmatch(name) and _last_touched(current / name) < cutoff:
                _remove(current / name)
                removed.append(current / name)
        dirnames[:] = [name for name in dirnames if (current / name).exists()]
    return removed


def remove_stale_entries(folder: Path, max_age_s: float) -> list[Path]:
    """Remove every file or folder directly in `folder` that nothing touched for `max_age_s`
    (for a folder, nothing in it either): for scratch folders whose users were killed."""
    cutoff = time.time() - max_age_s
    stale = [entry for entry in _entries(folder) if _last_touched(entry) < cutoff]
    for entry in stale:
        _remove(entry)
    return stale


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _last_touched(path: Path) -> float:
    """The newest modification time in `path` (itself, or anything below a folder)."""
    try:
        newest = path.lstat().st_mtime
    except FileNotFoundError:
        return time.time()  # gone meanwhile: nothing to remove
    if path.is_dir() and not path.is_symlink():
        for folder, _dirnames, filenames in os.walk(path):
            for name in filenames:
                with contextlib.suppress(FileNotFoundError):
                    newest = max(newest, (Path(folder) / name).lstat().st_mtime)
    return newest


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
