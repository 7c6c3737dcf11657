"""Run artifacts over HTTP: list, streamed download, streamed upload with a size limit.

An upload is written to a temporary file beside its target and renamed only once complete, so a
killed upload leaves nothing visible. Paths go through `safe_relative_path`; a path still
percent-encoded after the URL was decoded (a double-encoded `..`, say) is refused outright.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from modelyard.errors import LimitExceeded, UnsafePath
from modelyard.server.deps import workspace_of
from modelyard.server.errors import error_response
from modelyard.server.uploads import body_chunks, check_declared_length, upload_limit
from modelyard.store.artifacts import CHUNK_SIZE

router = APIRouter(tags=["artifacts"])
_STILL_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")


@router.get("/runs/{run_id}/artifacts")
def list_artifacts(run_id: str, request: Request, prefix: str = "") -> list[dict[str, Any]]:
    ws = workspace_of(request)
    ws.store.get_run(run_id)
    return [{"path": info.path, "size": info.size} for info in ws.artifacts.list(run_id, prefix)]


@router.get("/runs/{run_id}/artifacts/{path:path}")
def download_artifact(run_id: str, path: str, request: Request) -> StreamingResponse:
    ws = workspace_of(request)
    ws.store.get_run(run_id)
    handle = ws.artifacts.open_read(run_id, _decoded_once(path))
    size = _size_of(handle)
    return StreamingResponse(
        _chunks(handle),
        media_type="application/octet-stream",
        headers={"Content-Length": str(size)},
    )


@router.put("/runs/{run_id}/artifacts/{path:path}", response_model=None)
def upload_artifact(run_id: str, path: str, request: Request) -> dict[str, Any] | JSONResponse:
    ws = workspace_of(request)
    ws.store.get_run(run_id)
    limit = upload_limit(request)
    try:
        check_declared_length(request, limit)
        info = ws.artifacts.put_stream(
            run_id, _decoded_once(path), body_chunks(request), max_bytes=limit
        )
    except LimitExceeded as error:
        return error_response(error, status=413)
    return {"path": info.path, "size": info.size}


def _decoded_once(path: str) -> str:
    if _STILL_ENCODED.search(path):
        raise UnsafePath(
            f"artifact path {path!r} is still percent-encoded after decoding: encode the path once",
            path=path,
        )
    return path


def _size_of(handle: BinaryIO) -> int:
    return os.fstat(handle.fileno()).st_size


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk
