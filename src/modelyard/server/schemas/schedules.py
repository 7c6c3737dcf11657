"""Schedules: the request body of `routes/schedules.py` and the schedules' JSON
(`entities/schedules.py` `Schedule.to_dict`, `services/schedules.py` `ScheduleDetails`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from modelyard.server.schemas.common import ResponseModel, Timestamp


class ScheduleIn(BaseModel):
    """As the schedule YAML has it; `create_job` is a job file's path on the server's machine."""

    name: str = Field(min_length=1, max_length=64)
    trigger: dict[str, Any]
    create_job: str = Field(min_length=1, max_length=4096)
    catch_up: Literal["once", "skip"] = "once"
    enabled: bool = True


class Schedule(ResponseModel):
    name: str
    job_file: str
    trigger: dict[str, Any]
    catch_up: Literal["once", "skip"]
    enabled: bool
    created_by: str
    created_at: Timestamp
    next_fire_at: Timestamp | None
    last_fired_at: Timestamp | None
    last_error: str | None
    watched: str | None


class ScheduleFire(ResponseModel):
    schedule: str
    fire_time: Timestamp
    fired_at: Timestamp
    run_id: str | None
    error: str | None


class ScheduleDetails(Schedule):
    fires: list[ScheduleFire]


class ScheduleDeleted(ResponseModel):
    deleted: str
