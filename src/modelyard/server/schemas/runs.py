"""Runs and what they log: the request bodies of `routes/runs.py` and the runs' JSON.

Every request field is bounded as its database column is, so a bad value is a 4xx at the
edge, never an overflow or a poisoned row later (`entities/limits.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BaseModel, Field
from typing_extensions import TypedDict

from modelyard.entities import ResumableJob, RunStatus, limits
from modelyard.server.schemas.common import JsonFloat, Number, ResponseModel, Timestamp

RunId = Annotated[str, Field(max_length=limits.ID_MAX)]
Argument = Annotated[str, Field(max_length=limits.ARGUMENT_MAX)]


def _in_utc(moment: datetime) -> datetime:
    """A moment the database can compare: in UTC (naive ones are), within years 1–9999."""
    try:
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is in year 0 in UTC
        raise ValueError(f"{moment.isoformat()} is before year 1 or after 9999 in UTC") from None


Moment = Annotated[datetime, AfterValidator(_in_utc)]


# Requests ---------------------------------------------------------------------------------------


class SourceIn(BaseModel):
    script: Annotated[str, Field(max_length=limits.ARTIFACT_PATH_MAX)] | None = None
    arguments: list[Argument] = Field(default_factory=list, max_length=limits.ARGUMENTS_MAX)
    git_commit: Annotated[str, Field(max_length=64)] | None = None
    git_dirty: bool | None = None
    git_repository: Annotated[str, Field(max_length=1024)] | None = None


class RunIn(BaseModel):
    # No `user`: a run belongs to whoever's token created it.
    experiment_name: Annotated[str, Field(max_length=limits.EXPERIMENT_NAME_MAX)]
    display_name: Annotated[str, Field(max_length=limits.RUN_DISPLAY_NAME_MAX)] | None = None
    source: SourceIn | None = None
    parent_id: RunId | None = None
    compute_target: Annotated[str, Field(max_length=limits.COMPUTE_NAME_MAX)] | None = None
    status: RunStatus = RunStatus.NOT_STARTED


class TransitionIn(BaseModel):
    target: RunStatus
    error: Annotated[str, Field(max_length=limits.RUN_ERROR_MAX)] | None = None


class RequeueIn(BaseModel):
    cause: Annotated[str, Field(max_length=limits.RUN_ERROR_MAX)]


class ResumeIn(BaseModel):
    job: ResumableJob | None = Field(
        None,
        description="the kind of job the caller means (a sweep, an AutoML run, a pipeline): a"
        " run of another kind is refused; null takes any",
    )


class ProcessIn(BaseModel):
    host: Annotated[str, Field(min_length=1, max_length=limits.HOST_NAME_MAX)]
    pid: Annotated[int, Field(ge=1, le=limits.PID_MAX)]
    pid_started_at: Annotated[float, Field(ge=0, le=limits.TIMESTAMP_MAX, allow_inf_nan=False)]


# A dict, not a model: a batch holds up to thousands, and validating each into a dict costs
# half of building a model instance (the route reads each once). From typing_extensions, as
# pydantic requires before Python 3.12.
class MetricIn(TypedDict):
    # Names, values and steps arrive as sent: the store's own validation names what is wrong.
    name: Any
    value: Any
    step: Any
    timestamp: Annotated[float, Field(ge=0, le=limits.TIMESTAMP_MAX, allow_inf_nan=False)]


class BatchIn(BaseModel):
    metrics: list[MetricIn] = Field(default_factory=list)  # counted by the store, by name
    params: dict[str, str] | None = None
    tags: dict[str, str] | None = None


class PropertiesIn(BaseModel):
    properties: dict[str, str]


# Responses: `entities/records.py`'s `to_dict()`, field for field ---------------------------------


class RunSource(ResponseModel):
    """Where a run's code came from."""

    script: str | None
    arguments: list[str]
    git_commit: str | None
    git_dirty: bool | None
    git_repository: str | None


class Run(ResponseModel):
    id: str
    experiment: str
    experiment_id: str
    number: int
    display_name: str
    status: RunStatus
    parent_id: str | None
    compute_target: str | None
    user: str
    created_at: Timestamp
    started_at: Timestamp | None
    ended_at: Timestamp | None
    heartbeat_at: Timestamp | None
    error: str | None
    source: RunSource
    handle: str | None = Field(
        description="the compute backend's opaque handle of the run's process or submission"
    )
    attempt: int
    queued_at: Timestamp | None
    status_detail: str | None = Field(description="why a queued run waits, from the scheduler")


class RunAttempt(ResponseModel):
    """An attempt of a run that ended without ending the run: preempted, or lost and requeued."""

    attempt: int
    started_at: Timestamp | None
    ended_at: Timestamp
    outcome: RunStatus
    cause: str


class Metric(ResponseModel):
    name: str
    value: JsonFloat
    step: int
    timestamp: Number


class RunData(ResponseModel):
    """What a run has logged besides metric series; `latest_metrics` by name."""

    params: dict[str, str]
    tags: dict[str, str]
    properties: dict[str, str]
    latest_metrics: dict[str, JsonFloat]


class LogRead(ResponseModel):
    """A piece of a run's log; read on from `offset`."""

    text: str
    offset: int


# The live log (`server/events.py`): server-sent events, each described by `itemSchema` as
# OpenAPI 3.2 and FastAPI's own event streams do; `data` is a JSON document.
_LOG_EVENT_DATA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "offset": {"type": "integer"}},
    "required": ["text", "offset"],
}
_END_EVENT_DATA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": [status.value for status in RunStatus]},
        "offset": {"type": "integer"},
    },
    "required": ["status", "offset"],
}
LOG_STREAM_RESPONSE: Final[dict[str, Any]] = {
    "description": "Server-sent events: `log` {text, offset} as the log grows, then `end`"
    " {status, offset}; each event's `id` is its offset, to resume from (`Last-Event-ID`).",
    "content": {
        "text/event-stream": {
            "itemSchema": {
                "type": "object",
                "properties": {
                    "event": {"type": "string", "enum": ["log", "end"]},
                    "id": {"type": "string", "description": "the log's byte offset after it"},
                    "data": {
                        "type": "string",
                        "contentMediaType": "application/json",
                        "contentSchema": {"oneOf": [_LOG_EVENT_DATA, _END_EVENT_DATA]},
                    },
                },
                "required": ["event", "id", "data"],
            }
        }
    },
}
