"""Uploads (artifacts, job archives): read by the event loop into an unnamed temporary file.

A slow client holds no worker thread: the body is awaited chunk by chunk, and only the finished
file is handed to a worker. The file has no name (`TemporaryFile`), so a killed server leaves
nothing behind. Limits: the upload's declared and real size (`max_upload_mb`, 413), its content
type (415), and time: each chunk within `request_body_timeout_s`, and once that much time has
passed, at least `MIN_UPLOAD_BYTES_PER_S` on average (408) — a client sending a byte every two
seconds is cut off, a slow but honest one is not.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import BinaryIO, Final

import anyio
from fastapi import Request

from modelyard.errors import RequestTimeout, UnsupportedMediaType
from modelyard.server.deps import workspace_of
from modelyard.server.guard import body_media_type, check_declared_length, too_large, too_slow
from modelyard.store.rest_client import JOB_ARCHIVE_TYPE as JOB_ARCHIVE_TYPE  # the client's

ARTIFACT_TYPE: Final = "application/octet-stream"
MIN_UPLOAD_BYTES_PER_S: Final = 1024


def upload_limit(request: Request) -> int:
    return workspace_of(request).settings.max_upload_mb * 1024 * 1024


@asynccontextmanager
async def spooled_upload(request: Request, media_type: str, what: str) -> AsyncIterator[BinaryIO]:
    """The request's body in a temporary file, positioned at its start, for the block."""
    check_upload_type(request, media_type, what)
    limit = upload_limit(request)
    check_declared_length(request.headers, limit, what)
    ws = workspace_of(request)
    with tempfile.TemporaryFile(dir=ws.cache_dir) as spool:
        size = 0
        async for chunk in _timed_chunks(request, what, ws.settings.request_body_timeout_s):
            size += len(chunk)
            if size > limit:
                raise too_large(what, size, limit)
            spool.write(chunk)
        spool.seek(0)
        yield spool


def check_upload_type(request: Request, media_type: str, what: str) -> None:
    sent = body_media_type(request.headers)
    if sent != media_type:
        raise UnsupportedMediaType(
            f"{what} was sent as {sent or 'no content type'}: send it with"
            f" 'Content-Type: {media_type}'",
            content_type=sent,
        )


async def _timed_chunks(request: Request, what: str, timeout_s: float) -> AsyncIterator[bytes]:
    stream = request.stream().__aiter__()
    started = time.monotonic()
    received = 0
    while True:
        try:
            with anyio.fail_after(timeout_s):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise too_slow(what, timeout_s) from None
        received += len(chunk)
        _check_rate(what, received, time.monotonic() - started, timeout_s)
        yield chunk


def _check_rate(what: str, received: int, elapsed_s: float, grace_s: float) -> None:
    if elapsed_s > grace_s and received < MIN_UPLOAD_BYTES_PER_S * elapsed_s:
        raise RequestTimeout(
            f"{what} arrives at {received / elapsed_s:.0f} bytes/s, under the server's minimum"
            f" of {MIN_UPLOAD_BYTES_PER_S} bytes/s: check the connection and upload again",
            received=received,
        )
