"""A folder's or a file's content identity: its manifest and the manifest's hash.

The manifest lists every file as `f"{relpath}\\t{size}\\t{sha256}\\n"`, sorted by POSIX relative
path (a single file's relpath is its name); `content_hash` is the SHA-256 of those UTF-8 lines.
Two folders with the same files (paths, bytes) have the same hash wherever they live, whatever
their timestamps: a pipeline's reuse key and a data asset's version identity both rest on it.

Hashing 10,000 unchanged images again would read every byte; a `HashCache` (one SQLite file in
the workspace's cache) remembers each file's SHA-256 under its absolute path, size, mtime and
inode, so an unchanged file is looked up, not read. A file modified within `FRESH_S` of being
hashed is not remembered: a write in the same timestamp tick would leave its mtime unchanged
(git's "racily clean" entries). `verify=True` reads everything and corrects the cache.

Links: a link to a file inside the folder counts as that file's content; a link leaving the
folder, or to a folder, is refused in one line, as is a file that can't be read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from modelyard.entities import limits
from modelyard.entities.data import Manifest, ManifestEntry, check_manifest_path
from modelyard.errors import InvalidValue, LimitExceeded, NotFound
from modelyard.fileio import TEMP_PREFIX

CHUNK_SIZE: Final = 1024 * 1024
FRESH_S: Final = 2.0
CACHE_FILE: Final = "data-hashes.sqlite"


def content_hash_of(path: Path) -> str:
    """The SHA-256 of the manifest of the file or folder at `path`, every file read."""
    return build_manifest(path).content_hash


def build_manifest(path: Path, cache: HashCache | None = None, verify: bool = False) -> Manifest:
    """The manifest of the file or folder at `path`; unchanged files' hashes from `cache`
    unless `verify`, which reads every file (and corrects the cache)."""
    return build_manifest_of(list_files(Path(path)), cache, verify)


def build_manifest_of(
    files: dict[str, Path], cache: HashCache | None = None, verify: bool = False
) -> Manifest:
    """The manifest of `files` (relpath → file, as `list_files` finds them)."""
    known = cache.lookup(files.values()) if cache is not None and not verify else {}
    entries, remembered, hashed = [], [], 0
    started = time.time()
    for relpath, file in sorted(files.items()):
        key = _key(file, _stat(file, relpath))
        sha = known.get(key)
        size = key[1]
        if sha is None:
            sha, size = sha256_of_file(file, relpath)
            hashed += 1
            if _unchanged_since(file, relpath, key, size) and started - key[2] / 1e9 > FRESH_S:
                remembered.append((key, sha))
        entries.append(ManifestEntry(relpath, size, sha))
    if cache is not None and remembered:
        cache.remember(remembered)
    return Manifest.of(entries, hashed, len(entries) - hashed)


def _unchanged_since(file: Path, relpath: str, key: _Key, size_read: int) -> bool:
    """Whether the file read is the one stat'ed before (else its hash is not remembered)."""
    return _key(file, _stat(file, relpath)) == key and size_read == key[1]


def list_files(path: Path) -> dict[str, Path]:
    """POSIX relative path → absolute file, for a folder (walked, links checked) or one file.
    An empty folder has a manifest too (a pipeline step may output nothing)."""
    if not path.exists():
        raise NotFound(f"data path {str(path)!r} not found: check the path", path=str(path))
    if not path.is_dir():
        return {check_manifest_path(path.name): path.absolute()}
    files: dict[str, Path] = {}
    _walk(path.absolute(), "", path.resolve(), files)
    return files


def list_files_to_version(path: Path) -> dict[str, Path]:
    """The files of a data version to be: an empty folder has nothing to version."""
    files = list_files(path)
    if not files:
        raise InvalidValue(
            f"data folder {str(path)!r} holds no files: nothing to version", path=str(path)
        )
    return files


def _walk(folder: Path, prefix: str, root: Path, files: dict[str, Path]) -> None:
    """`os.scandir`, not `os.walk` + `Path` checks: each entry's type comes with its name, so a
    folder of 10,000 images costs no stat call here."""
    with os.scandir(folder) as entries:
        for entry in entries:
            relpath = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                _walk(Path(entry.path), relpath + "/", root, files)
            elif not entry.name.startswith(TEMP_PREFIX):
                files[check_manifest_path(relpath)] = _file_of(entry, root, relpath)
                if len(files) > limits.DATA_FILES_MAX:
                    raise LimitExceeded(
                        f"data folder {str(root)!r} holds over {limits.DATA_FILES_MAX} files:"
                        " split it into several assets, or pack small files into archives",
                        limit=limits.DATA_FILES_MAX,
                    )


def _file_of(entry: os.DirEntry[str], root: Path, relpath: str) -> Path:
    """The entry's file, or where its link leads if that is a file inside `root`."""
    if entry.is_file(follow_symlinks=False):
        return Path(entry.path)
    if not entry.is_symlink():  # a pipe would block the read, a device never end
        raise InvalidValue(
            f"{relpath!r} in the data folder is not a regular file (a pipe, socket or"
            " device): move it out",
            path=entry.path,
        )
    target = Path(entry.path).resolve()
    if target.is_dir():
        raise InvalidValue(
            f"{relpath!r} in {str(root)!r} is a link to a folder: replace it with the folder"
            " itself, or move it out",
            path=entry.path,
        )
    if not target.is_relative_to(root) or not target.is_file():
        raise InvalidValue(
            f"{relpath!r} is a link to {str(target)!r}, outside the data folder {str(root)!r}"
            " (or not a file): copy the file in, or leave the link out",
            path=relpath,
        )
    return target


def _stat(file: Path, relpath: str) -> os.stat_result:
    try:
        return file.stat()
    except OSError as error:
        raise _unreadable(file, relpath, error) from error


def sha256_of_file(file: Path, relpath: str = "") -> tuple[str, int]:
    """The file's SHA-256 and the number of bytes read."""
    digest, size = hashlib.sha256(), 0
    try:
        with open(file, "rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                digest.update(chunk)
                size += len(chunk)
    except OSError as error:
        raise _unreadable(file, relpath or file.name, error) from error
    return digest.hexdigest(), size


def _unreadable(file: Path, relpath: str, error: OSError) -> InvalidValue:
    return InvalidValue(
        f"can't read {relpath!r} ({str(file)!r}): {error.strerror or error}; make it readable"
        " or move it out of the data folder",
        path=str(file),
    )


_Key = tuple[str, int, int, int]


def _key(file: Path, stat: os.stat_result) -> _Key:
    return (str(file), stat.st_size, stat.st_mtime_ns, stat.st_ino)  # `file` is absolute


class HashCache:
    """SHA-256s of files by (absolute path, size, mtime_ns, inode), in one SQLite file. A
    cache that can't be read or written is an empty one: it only ever saves reading."""

    def __init__(self, database: Path) -> None:
        self.database = Path(database)

    @classmethod
    def in_cache_dir(cls, cache_dir: Path) -> HashCache:
        return cls(Path(cache_dir) / CACHE_FILE)

    def lookup(self, files: Iterable[Path]) -> dict[_Key, str]:
        """The remembered hashes of `files`, by their key as it was when remembered."""
        paths = [str(file) for file in files]  # absolute, as `list_files` gives them
        found: dict[_Key, str] = {}
        with contextlib.suppress(sqlite3.Error, OSError), self._connect() as connection:
            for start in range(0, len(paths), 500):
                chunk = paths[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    "SELECT path, size, mtime_ns, inode, sha256 FROM hashes"
                    f" WHERE path IN ({marks})",
                    chunk,
                )
                for path, size, mtime_ns, inode, sha in rows:
                    found[(path, size, mtime_ns, inode)] = sha
        return found

    def remember(self, entries: list[tuple[_Key, str]]) -> None:
        rows = [(*key, sha) for key, sha in entries]
        with contextlib.suppress(sqlite3.Error, OSError), self._connect() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO hashes (path, size, mtime_ns, inode, sha256)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.database.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.database, timeout=30)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INTEGER,"
                " mtime_ns INTEGER, inode INTEGER, sha256 TEXT)"
            )
            with connection:  # one transaction, committed on leaving
                yield connection
        finally:
            connection.close()
