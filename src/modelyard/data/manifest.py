"""A folder's (or a file's) content hash: the identity of data by what it holds.

`content_hash_of(path)` is the SHA-256 (hex) of the UTF-8 lines `f"{relpath}\t{size}\t{sha256}\n"`
over the files, sorted by POSIX relative path (a single file: its own name). Names, sizes and
bytes count; times, permissions and empty folders do not, so a copy hashes alike and a file
changed in place does not.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def content_hash_of(path: Path) -> str:
    digest = hashlib.sha256()
    for relpath, file in _files(path):
        line = f"{relpath}\t{file.stat().st_size}\t{_file_hash(file)}\n"
        digest.update(line.encode("utf-8"))
    return digest.hexdigest()


def _files(path: Path) -> list[tuple[str, Path]]:
    if path.is_file():
        return [(path.name, path)]
    found = [
        (file.relative_to(path).as_posix(), file) for file in path.rglob("*") if file.is_file()
    ]
    return sorted(found)


def _file_hash(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
