"""Jobs sent to this server's workspace: one tar archive in, a queued run out (job_upload)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from modelyard.entities import Caller
from modelyard.server.deps import Contributor, workspace_of
from modelyard.server.schemas.errors import error_responses
from modelyard.server.schemas.jobs import JOB_ARCHIVE
from modelyard.server.schemas.runs import Run
from modelyard.server.uploads import JOB_ARCHIVE_TYPE, spooled_upload
from modelyard.services import job_upload

router = APIRouter(tags=["jobs"])


@router.post(
    "/jobs",
    status_code=201,
    response_model=Run,
    responses=error_responses(404, 409),
    openapi_extra={
        "requestBody": {"content": {JOB_ARCHIVE_TYPE: {"schema": JOB_ARCHIVE}}, "required": True}
    },
)
async def submit_job(request: Request, caller: Caller = Contributor) -> dict[str, Any]:
    """Queue a packed job (`job.json` and `snapshot/…`, as the SDK sends it) on this server's
    compute, as the caller's; answers the new run."""
    ws = workspace_of(request)
    async with spooled_upload(request, JOB_ARCHIVE_TYPE, "the job archive") as archive:
        run = await run_in_threadpool(job_upload.submit_uploaded, ws, archive, user=caller.name)
    return run.to_dict()
