"""A folder's content hash, what a folder trigger compares between passes.

PLACEHOLDER for the data assets' own manifest module (built beside this one): the contract is
the same, and the lead keeps that one when merging.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from modelyard.errors import NotFound

_CHUNK = 1 << 20


def content_hash_of(path: Path) -> str:
    """SHA-256 hex of UTF-8 lines `relpath<TAB>size<TAB>sha256<LF>`, one per file, sorted by
    POSIX relative path: the same for the same files, whatever their times or order on disk."""
    root = Path(path)
    if not root.is_dir():
        raise NotFound(f"folder {root} not found: create it, or fix the path", path=str(root))
    files = sorted((file.relative_to(root).as_posix(), file) for file in _files(root))
    digest = hashlib.sha256()
    for relative, file in files:
        digest.update(f"{relative}\t{file.stat().st_size}\t{_sha256(file)}\n".encode())
    return digest.hexdigest()


def _files(root: Path) -> list[Path]:
    return [file for file in root.rglob("*") if file.is_file()]


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
