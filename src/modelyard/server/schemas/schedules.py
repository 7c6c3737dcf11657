"""Schedules: the request bodies of `routes/schedules.py` and the schedules' JSON
(`entities/schedules.py` `Schedule.to_dict`, `services/schedules.py` `ScheduleDetails`)."""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelyard.server.schemas.common import ResponseModel, Timestamp


class ScheduleIn(BaseModel):
    """As the schedule YAML has it; `create_job` is a job file's path on the server's machine.
    Read by `services.schedules.job_schedule_of`, the YAML's and the upload's rules."""

    model_config = ConfigDict(extra="forbid")

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
    job_sha256: str | None = Field(
        description="the SHA-256 of the job uploaded with the schedule, stored on the server"
        " (None: job_file is a path on the server's machine, read at each fire)"
    )


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


# The archive's bytes; its members are checked by `services/job_upload.py`, the schedule in
# its job.json by `services/schedules.py`.
SCHEDULE_ARCHIVE: Final[dict[str, Any]] = {
    "type": "string",
    "format": "binary",
    "description": "a tar archive as POST /jobs takes it (job.json and the snapshot/ folder),"
    " job.json's 'schedule' object holding the schedule: name, trigger, create_job (the job"
    " file's name), catch_up, enabled",
}
