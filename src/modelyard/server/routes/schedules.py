"""Schedules over the API: create, list, show (with recent fires), enable, disable, delete.

Readers read; a contributor creates a schedule with its job uploaded (`/schedules/with-job`:
the job as `POST /jobs` takes it, stored and fired as that snapshot), an admin also one whose
job file is a path on the server's machine (`/schedules`); a contributor enables, disables and
deletes their own, an admin any. The server's background loop fires them
(services/background.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from modelyard.entities import Caller
from modelyard.server.deps import Admin, Contributor, Reader, caller_of, workspace_of
from modelyard.server.schemas import schedules as schemas
from modelyard.server.schemas.errors import error_responses
from modelyard.server.uploads import JOB_ARCHIVE_TYPE, spooled_upload
from modelyard.services import schedules
from modelyard.services.authorization import check_schedule_owner

router = APIRouter(tags=["schedules"])


@router.get("/schedules", dependencies=[Reader], response_model=list[schemas.Schedule])
def list_schedules(request: Request) -> list[dict[str, Any]]:
    return [s.to_dict() for s in schedules.list_schedules(workspace_of(request))]


@router.post(
    "/schedules",
    dependencies=[Admin],
    response_model=schemas.Schedule,
    responses=error_responses(409),
)
def create_schedule(body: schemas.ScheduleIn, request: Request) -> dict[str, Any]:
    """The job file is a path on the server's machine, loaded and checked there, where the loop
    fires it: naming files on the server's disk is an admin's right, so only an admin creates
    these (anyone else sends the job with the schedule: `/schedules/with-job`)."""
    job = schedules.job_schedule_of(body.model_dump(), "the request body")
    ws, caller = workspace_of(request), caller_of(request)
    return schedules.create_schedule(ws, job, user=caller.name).to_dict()


@router.post(
    "/schedules/with-job",
    response_model=schemas.Schedule,
    responses=error_responses(404, 409),
    openapi_extra={
        "requestBody": {
            "content": {JOB_ARCHIVE_TYPE: {"schema": schemas.SCHEDULE_ARCHIVE}},
            "required": True,
        }
    },
)
async def create_with_job(request: Request, caller: Caller = Contributor) -> dict[str, Any]:
    """A schedule whose job comes with it, packed as a job upload (the schedule's fields in
    its job.json): checked whole, then stored; each fire submits a copy of that job."""
    ws = workspace_of(request)
    async with spooled_upload(request, JOB_ARCHIVE_TYPE, "the schedule's job archive") as archive:
        created = await run_in_threadpool(
            schedules.create_uploaded_schedule, ws, archive, user=caller.name
        )
    return created.to_dict()


@router.get("/schedules/{name}", dependencies=[Reader], response_model=schemas.ScheduleDetails)
def show_schedule(name: str, request: Request) -> dict[str, Any]:
    return schedules.schedule_details(workspace_of(request), name).to_dict()


@router.post(
    "/schedules/{name}/enable", dependencies=[Contributor], response_model=schemas.Schedule
)
def enable_schedule(name: str, request: Request) -> dict[str, Any]:
    return _set_enabled(request, name, True)


@router.post(
    "/schedules/{name}/disable", dependencies=[Contributor], response_model=schemas.Schedule
)
def disable_schedule(name: str, request: Request) -> dict[str, Any]:
    return _set_enabled(request, name, False)


def _set_enabled(request: Request, name: str, enabled: bool) -> dict[str, Any]:
    ws = workspace_of(request)
    check_schedule_owner(ws, caller_of(request), name)
    return schedules.set_enabled(ws, name, enabled).to_dict()


@router.delete(
    "/schedules/{name}", dependencies=[Contributor], response_model=schemas.ScheduleDeleted
)
def delete_schedule(name: str, request: Request) -> dict[str, Any]:
    ws = workspace_of(request)
    check_schedule_owner(ws, caller_of(request), name)
    schedules.delete_schedule(ws, name)
    return {"deleted": name}
