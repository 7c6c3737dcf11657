"""Request bodies read as streams, with the server's upload size limit (413 past it)."""

from __future__ import annotations

from collections.abc import Iterator

import anyio.from_thread
from fastapi import Request

from modelyard.errors import LimitExceeded
from modelyard.server.deps import workspace_of


def upload_limit(request: Request) -> int:
    return workspace_of(request).settings.max_upload_mb * 1024 * 1024


def check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise LimitExceeded(
            f"upload of {declared} bytes is over the server's limit of {limit} bytes: raise"
            " MODELYARD_MAX_UPLOAD_MB on the server or upload a smaller file",
            size=int(declared),
            limit=limit,
        )


def body_chunks(request: Request) -> Iterator[bytes]:
    """The request body, read from the event loop chunk by chunk by this worker thread."""
    stream = request.stream()
    while True:
        try:
            chunk = anyio.from_thread.run(stream.__anext__)
        except StopAsyncIteration:
            return
        if chunk:
            yield chunk
