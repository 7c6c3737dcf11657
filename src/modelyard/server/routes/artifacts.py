"""Run artifacts over HTTP: list, streamed download, streamed upload with a size limit.

An upload is written to a temporary file beside its target and renamed only once complete, so a
killed upload leaves nothing visible. Paths go through `safe_relative_path`; a path still
percent-encoded after the URL was decoded (a double-encoded `..`, say) is refused outright.
"""

from __future__ import annotations

import os
import re
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from modelyard.errors import UnsafePath
from modelyard.server.deps import RunOwner, RunReader, workspace_of
from modelyard.server.schemas.artifacts import BINARY, ArtifactInfo
from modelyard.server.schemas.errors import error_responses
from modelyard.server.streams import chunks_of, chunks_then_close
from modelyard.server.uploads import ARTIFACT_TYPE, spooled_upload

router = APIRouter(tags=["artifacts"])
_STILL_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")


@router.get("/runs/{run_id}/artifacts", dependencies=[RunReader], response_model=list[ArtifactInfo])
def list_artifacts(run_id: str, request: Request, prefix: str = "") -> list[dict[str, Any]]:
    ws = workspace_of(request)
    ws.store.get_run(run_id)
    return [{"path": info.path, "size": info.size} for info in ws.artifacts.list(run_id, prefix)]


@router.get(
    "/runs/{run_id}/artifacts/{path:path}",
    dependencies=[RunReader],
    response_class=StreamingResponse,
    responses={
        200: {"description": "The artifact's bytes", "content": {ARTIFACT_TYPE: {"schema": BINARY}}}
    },
)
def download_artifact(run_id: str, path: str, request: Request) -> StreamingResponse:
    ws = workspace_of(request)
    ws.store.get_run(run_id)
    handle = ws.artifacts.open_read(run_id, _decoded_once(path))
    size = _size_of(handle)
    return StreamingResponse(
        chunks_then_close(handle),
        media_type="application/octet-stream",
        headers={"Content-Length": str(size)},
    )


@router.put(
    "/runs/{run_id}/artifacts/{path:path}",
    dependencies=[RunOwner],
    response_model=ArtifactInfo,
    responses=error_responses(409),
    openapi_extra={
        "requestBody": {"content": {ARTIFACT_TYPE: {"schema": BINARY}}, "required": True}
    },
)
async def upload_artifact(run_id: str, path: str, request: Request) -> dict[str, Any]:
    ws = workspace_of(request)
    relative = _decoded_once(path)
    await run_in_threadpool(ws.store.get_run, run_id)  # nothing spooled for a missing run
    async with spooled_upload(request, ARTIFACT_TYPE, f"artifact {relative!r}") as spooled:
        info = await run_in_threadpool(
            ws.artifacts.put_stream, run_id, relative, chunks_of(spooled)
        )
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
