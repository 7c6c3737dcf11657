"""Jobs sent to this server's workspace: one tar archive in, a queued run out (job_upload)."""

from __future__ import annotations

import tempfile
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from modelyard.errors import LimitExceeded
from modelyard.server.deps import require_user, workspace_of
from modelyard.server.errors import error_response
from modelyard.server.uploads import body_chunks, check_declared_length, upload_limit
from modelyard.services import job_upload
from modelyard.store.artifacts import limited_chunks

router = APIRouter(tags=["jobs"])


@router.post(
    "/jobs",
    status_code=201,
    response_model=None,
    openapi_extra={"requestBody": {"content": {"application/x-tar": {}}, "required": True}},
)
def submit_job(request: Request, caller: Any = Depends(require_user)) -> Any:
    """Queue a packed job (`job.json` and `snapshot/…`, as the SDK sends it) on this server's
    compute; answers the new run."""
    ws = workspace_of(request)
    limit = upload_limit(request)
    with tempfile.TemporaryFile(dir=ws.cache_dir) as archive:
        try:
            check_declared_length(request, limit)
            for chunk in limited_chunks(body_chunks(request), limit, "the job archive"):
                archive.write(chunk)
        except LimitExceeded as error:
            return error_response(error, status=413)
        archive.seek(0)
        user = getattr(caller, "name", str(caller))
        run = job_upload.submit_uploaded(ws, archive, user=user)
    return JSONResponse(run.to_dict(), status_code=201)
