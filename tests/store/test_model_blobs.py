"""The registered files on disk: named by their SHA-256, written whole or not at all, read-only,
one blob for the same bytes however often they are registered."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.errors import NotFound
from modelyard.store.blobs import BlobStore


def test_a_blob_is_named_by_its_hash_and_read_only(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "models")
    source = tmp_path / "weights.bin"
    source.write_bytes(b"w" * 3_000_000)  # several chunks

    sha, size, created = blobs.put_file(source)
    assert (sha, size, created) == (hashlib.sha256(b"w" * 3_000_000).hexdigest(), 3_000_000, True)
    assert blobs.path_of(sha) == tmp_path / "models" / "sha256" / sha[:2] / sha
    assert not os.stat(blobs.path_of(sha)).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert blobs.put_file(source) == (sha, size, False)  # the same bytes: the same blob
    with blobs.open_read(sha) as handle:
        assert handle.read() == b"w" * 3_000_000


def test_a_write_that_fails_midway_leaves_nothing(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "models")

    def failing() -> Iterator[bytes]:
        yield b"half of it"
        raise OSError(5, "Input/output error")

    with pytest.raises(OSError, match="Input/output error"):
        blobs.put_stream(failing())
    assert [p for p in (tmp_path / "models").rglob("*") if p.is_file()] == []


def test_a_missing_blob_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="is missing from the workspace's model store"):
        BlobStore(tmp_path).open_read("0" * 64)
