"""Runs and what they log: the tracking store's operations, one route each, plus logs and cancel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, BaseModel, Field

from modelyard.entities import Caller, Metric, Role, RunSource, RunStatus, limits
from modelyard.entities.records import float_from_json
from modelyard.errors import InvalidTransition
from modelyard.server.deps import Contributor, Reader, RunOwner, RunReader, workspace_of
from modelyard.server.events import server_sent_events
from modelyard.services import authorization, jobs, log_stream, scheduling
from modelyard.services import runs as run_service
from modelyard.services.run_files import STD_LOG

router = APIRouter(tags=["runs"])
LOG_CHUNK_MAX = 1024 * 1024


# Every field is bounded as its database column is, so a bad value is a 4xx here, never an
# overflow or a poisoned row later (`entities/limits.py`).
RunId = Annotated[str, Field(max_length=limits.ID_MAX)]
Argument = Annotated[str, Field(max_length=limits.ARGUMENT_MAX)]


def _in_utc(moment: datetime) -> datetime:
    """A moment the database can compare: in UTC (naive ones are), within years 1–9999."""
    try:
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is in year 0 in UTC
        raise ValueError(f"{moment.isoformat()} is before year 1 or after 9999 in UTC") from None


Moment = Annotated[datetime, AfterValidator(_in_utc)]


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


class ProcessIn(BaseModel):
    host: Annotated[str, Field(min_length=1, max_length=limits.HOST_NAME_MAX)]
    pid: Annotated[int, Field(ge=1, le=limits.PID_MAX)]
    pid_started_at: Annotated[float, Field(ge=0, le=limits.TIMESTAMP_MAX, allow_inf_nan=False)]


class MetricIn(BaseModel):
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


@router.post("/runs")
def create_run(body: RunIn, request: Request, caller: Caller = Contributor) -> dict[str, Any]:
    ws = workspace_of(request)
    if body.parent_id is not None:  # a child run joins its parent's work: the parent's rules
        authorization.check_run_access(ws, caller, body.parent_id, Role.CONTRIBUTOR)
    source = RunSource.from_dict(body.source.model_dump()) if body.source else None
    run = ws.store.create_run(
        body.experiment_name,
        user=caller.name,
        display_name=body.display_name,
        source=source,
        parent_id=body.parent_id,
        compute_target=body.compute_target,
        status=body.status,
    )
    return run.to_dict()


@router.get("/runs", dependencies=[Reader])
def list_runs(
    request: Request,
    experiment: str | None = None,
    status: list[RunStatus] | None = Query(None),
    parent_id: str | None = None,
    id_prefix: str | None = None,
    display_name: str | None = None,
    limit: int = Query(1000, ge=1, le=100_000),
) -> list[dict[str, Any]]:
    found = workspace_of(request).store.list_runs(
        experiment,
        statuses=status,
        parent_id=parent_id,
        id_prefix=id_prefix,
        display_name=display_name,
        limit=limit,
    )
    return [run.to_dict() for run in found]


@router.get("/runs-silent", dependencies=[Reader])
def list_runs_silent_since(since: Moment, request: Request) -> list[dict[str, Any]]:
    return [run.to_dict() for run in workspace_of(request).store.list_runs_silent_since(since)]


@router.get("/runs/{run_id}", dependencies=[RunReader])
def get_run(run_id: str, request: Request) -> dict[str, Any]:
    # Through the reaper: a client waiting on a run whose process died here must see it end.
    return run_service.get_run(workspace_of(request), run_id).to_dict()


@router.post("/runs/{run_id}/transition", dependencies=[RunOwner])
def transition_run(run_id: str, body: TransitionIn, request: Request) -> dict[str, Any]:
    store = workspace_of(request).store
    return store.transition_run(run_id, body.target, error=body.error).to_dict()


@router.post("/runs/{run_id}/process")
def record_process(
    run_id: str, body: ProcessIn, request: Request, caller: Caller = RunOwner
) -> dict[str, Any]:
    ws = workspace_of(request)
    authorization.check_may_claim_process(ws, caller, run_id, body.host)
    ws.store.record_process(run_id, body.host, body.pid, body.pid_started_at)
    return {}


@router.post("/runs/{run_id}/heartbeat", dependencies=[RunOwner])
def heartbeat(run_id: str, request: Request) -> dict[str, Any]:
    return workspace_of(request).store.heartbeat(run_id).to_dict()


@router.post("/runs/{run_id}/batch", dependencies=[RunOwner])
def log_batch(run_id: str, body: BatchIn, request: Request) -> dict[str, Any]:
    metrics = [Metric(m.name, float_from_json(m.value), m.step, m.timestamp) for m in body.metrics]
    workspace_of(request).store.log_batch(run_id, metrics, body.params, body.tags)
    return {}


@router.post("/runs/{run_id}/properties", dependencies=[RunOwner])
def add_properties(run_id: str, body: PropertiesIn, request: Request) -> dict[str, Any]:
    workspace_of(request).store.add_properties(run_id, body.properties)
    return {}


@router.get("/runs/{run_id}/metrics", dependencies=[RunReader])
def get_metric_history(
    run_id: str, request: Request, name: str | None = None
) -> list[dict[str, Any]]:
    history = workspace_of(request).store.get_metric_history(run_id, name)
    return [metric.to_dict() for metric in history]


@router.get("/runs/{run_id}/data", dependencies=[RunReader])
def get_run_data(run_id: str, request: Request) -> dict[str, Any]:
    return workspace_of(request).store.get_run_data(run_id).to_dict()


@router.post("/runs/{run_id}/cancel", dependencies=[RunOwner])
def cancel_run(run_id: str, request: Request) -> dict[str, Any]:
    return run_service.cancel_run(workspace_of(request), run_id).to_dict()


@router.post("/runs/{run_id}/requeue")
def requeue_preempted_run(
    run_id: str, body: RequeueIn, request: Request, caller: Caller = RunOwner
) -> dict[str, Any]:
    """A preempted run whose job has stopped (its checkpoints saved) goes back to its place in
    the queue: its job's supervisor on another machine (Ray) says so with the run's token."""
    authorization.check_may_requeue(caller, run_id)
    ws = workspace_of(request)
    requeued = scheduling.requeue(ws, run_id, RunStatus.PREEMPTED, body.cause)
    if requeued is None:
        status = ws.store.get_run(run_id).status
        raise InvalidTransition(
            f"run {run_id} is {status.value}, not Preempted: only a preempted run goes back to"
            " the queue, once; nothing was changed",
            run_id=run_id,
            current=status.value,
            target=RunStatus.QUEUED.value,
        )
    return requeued.to_dict()


@router.get("/runs/{run_id}/logs", dependencies=[RunReader])
def read_log(
    run_id: str,
    request: Request,
    path: str = STD_LOG,
    offset: int = Query(0, ge=0, le=limits.OFFSET_MAX),
) -> dict[str, Any]:
    """The log from `offset` (at most 1 MiB); poll again with the returned offset."""
    text, next_offset = jobs.read_log(workspace_of(request), run_id, path, offset, LOG_CHUNK_MAX)
    return {"text": text, "offset": next_offset}


@router.get(
    "/runs/{run_id}/logs/stream",
    dependencies=[RunReader],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def stream_log(
    run_id: str,
    request: Request,
    path: str = STD_LOG,
    offset: int = Query(0, ge=0, le=limits.OFFSET_MAX),
    last_event_id: int | None = Header(None, ge=0, le=limits.OFFSET_MAX),
) -> StreamingResponse:
    """The log live, as server-sent events: `log` {text, offset} as it grows, a comment every
    15 s while quiet, and `end` {status, offset} once the run has ended and the log is drained.
    A reconnecting EventSource resumes where it was (`Last-Event-ID` is the offset)."""
    start = last_event_id if last_event_id is not None else offset
    events = log_stream.open_log_stream(workspace_of(request), run_id, path, start)
    return StreamingResponse(
        server_sent_events(events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
