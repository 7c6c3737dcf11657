"""A file's bytes as the chunks a response streams or the store takes, CHUNK_SIZE at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from modelyard.store.artifacts import CHUNK_SIZE


def chunks_of(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK_SIZE):
        yield chunk


def chunks_then_close(handle: BinaryIO) -> Iterator[bytes]:
    """For a streamed response: the file is closed when the last chunk has gone, or when the
    client goes away and the response's iterator is closed."""
    with handle:
        yield from chunks_of(handle)
