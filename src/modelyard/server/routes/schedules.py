"""Schedules over the API: create, list, show (with recent fires), enable, disable, delete.

Readers read; an admin creates schedules (their job files are paths on the server's machine);
a contributor enables, disables and deletes their own; an admin any.
The server's background loop fires them (services/background.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from modelyard.entities.schedules import trigger_from_dict
from modelyard.server.deps import Admin, Contributor, Reader, caller_of, workspace_of
from modelyard.server.schemas import schedules as schemas
from modelyard.server.schemas.errors import error_responses
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
    fires it: naming files on the server's disk is an admin's right (a contributor's jobs come
    as uploads), so only an admin creates schedules over the API."""
    job = schedules.JobSchedule(
        name=body.name,
        trigger=trigger_from_dict(body.trigger),
        create_job=Path(body.create_job),
        catch_up=body.catch_up,
        enabled=body.enabled,
    )
    ws, caller = workspace_of(request), caller_of(request)
    return schedules.create_schedule(ws, job, user=caller.name).to_dict()


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
