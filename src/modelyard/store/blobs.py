"""Files on the workspace's disk, content-addressed: `<root>/sha256/ab/<hex>`; registered
models' under `models/`, data asset versions' under `data/`.

A blob is named by its SHA-256, so it is immutable by construction and shared by every version
holding the same bytes (a retrain that changes only the weights shares its label map; a data
version that changes one image shares every other). Each is
written to a `.tmp-…` file beside its place, hashed while copied, fsynced and renamed: a blob
is whole or absent. Which blobs are still used is the database's to say (`model_files`); the
registry removes a blob only under its lock, after checking that no version uses it
(`ModelStore.collect_unreferenced_blobs`). Data versions are never deleted (archived only),
so their blobs stay; a data root is its own, so the registry's collection never sees them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, BinaryIO

from modelyard.errors import NotFound, StorageError
from modelyard.fileio import TEMP_PREFIX, storage_errors

CHUNK_SIZE = 1024 * 1024
READ_ONLY = 0o444


class BlobStore:
    def __init__(self, root: Path, kind: str = "model") -> None:
        self.root = Path(root)
        self.kind = kind  # what the files are, for messages

    def path_of(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def put_file(self, source: Path, durable: bool = True) -> tuple[str, int, bool]:
        """Copy `source` in as a blob: (sha256, size, whether this call created the blob).
        Not `durable`: no fsync of its own; the caller calls `sync()` once after many."""
        with open(source, "rb") as handle:
            return self.put_stream(iter(lambda: handle.read(CHUNK_SIZE), b""), durable)

    def put_stream(self, chunks: Iterable[bytes], durable: bool = True) -> tuple[str, int, bool]:
        """Like `put_file`. A blob already there counts as written now (its mtime touched):
        a collection of old blobs (`blobs_older_than`, `is_older_than`) leaves it alone."""
        folder = self.root / "sha256"
        with storage_errors(folder):
            folder.mkdir(parents=True, exist_ok=True)
            temp = folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
            try:
                sha, size = _write_hashing(temp, chunks, durable)
                target = self.path_of(sha)
                if target.is_file():
                    temp.unlink()
                    _touch(target)
                    return sha, size, False
                target.parent.mkdir(exist_ok=True)
                os.replace(temp, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
                raise
        return sha, size, True

    @staticmethod
    def sync() -> None:
        """Everything written so far on disk: one flush for thousands of small blobs, where an
        fsync each costs a journal commit each (10,000 images: 20 s against well under one)."""
        os.sync()

    def restore(self, sha256: str, source: Path | IO[bytes]) -> None:
        """Write the blob again from `source`, a file or an open one read from its start (it
        was collected meanwhile); the bytes must still be the ones registered."""
        if isinstance(source, Path):
            sha, _size, _created = self.put_file(source)
        else:
            source.seek(0)
            sha, _size, _created = self.put_stream(iter(lambda: source.read(CHUNK_SIZE), b""))
        if sha != sha256:
            self.remove(sha)
            raise StorageError(
                f"{source} changed while it was being registered: register it again",
                path=str(source),
            )

    def open_read(self, sha256: str) -> BinaryIO:
        try:
            return open(self.path_of(sha256), "rb")
        except FileNotFoundError:
            raise NotFound(
                f"the {self.kind} file with SHA-256 {sha256} is missing from the workspace's"
                f" {self.kind} store: restore the workspace's {self.root.name}/ folder from a"
                " backup",
                sha256=sha256,
            ) from None

    def blobs_older_than(self, max_age_s: float) -> list[str]:
        """The SHA-256s of blobs not written for `max_age_s`."""
        cutoff = time.time() - max_age_s
        found = []
        for blob in self.root.glob("sha256/??/*"):
            with contextlib.suppress(FileNotFoundError):
                if not blob.name.startswith(TEMP_PREFIX) and blob.lstat().st_mtime < cutoff:
                    found.append(blob.name)
        return sorted(found)

    def is_older_than(self, sha256: str, max_age_s: float) -> bool:
        """Whether the blob is there and was not written (nor put again) for `max_age_s`."""
        try:
            return self.path_of(sha256).lstat().st_mtime < time.time() - max_age_s
        except FileNotFoundError:
            return False

    def remove(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_of(sha256).unlink()


def _touch(blob: Path) -> None:
    """The blob's mtime set to now: put again, it is as young as a new one. Its owner may
    do this to a read-only file; a blob of another owner keeps its time (a collection then
    relies on the lock its store removes under)."""
    with contextlib.suppress(PermissionError):
        os.utime(blob)


def _write_hashing(temp: Path, chunks: Iterable[bytes], durable: bool) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with open(os.open(temp, flags, READ_ONLY | 0o200), "wb") as handle:
        for chunk in chunks:
            digest.update(chunk)
            handle.write(chunk)
            size += len(chunk)
        handle.flush()
        if durable:
            os.fsync(handle.fileno())
    os.chmod(temp, READ_ONLY)
    return digest.hexdigest(), size
