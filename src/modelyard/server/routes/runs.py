"""Runs and what they log: the tracking store's operations, one route each, plus logs and cancel."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from modelyard.entities import Caller, Metric, RunSource, RunStatus, limits
from modelyard.entities.records import float_from_json
from modelyard.errors import InvalidTransition
from modelyard.server.deps import (
    ContributorOrJob,
    Reader,
    ReaderOrJob,
    RunOwner,
    RunReader,
    workspace_of,
)
from modelyard.server.events import server_sent_events
from modelyard.server.json_route import PydanticJsonRoute
from modelyard.server.schemas import runs as schemas
from modelyard.server.schemas.common import Empty, answers, prebuilt_json
from modelyard.server.schemas.errors import error_responses
from modelyard.services import authorization, jobs, log_stream, resume, scheduling
from modelyard.services import runs as run_service
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace

# Bodies parsed by pydantic-core: a logged batch is thousands of points (json_route.py).
router = APIRouter(tags=["runs"], route_class=PydanticJsonRoute)
LOG_CHUNK_MAX = 1024 * 1024


@router.post("/runs", response_model=schemas.Run, responses=error_responses(404))
def create_run(
    body: schemas.RunIn, request: Request, caller: Caller = ContributorOrJob
) -> dict[str, Any]:
    ws = workspace_of(request)
    authorization.check_may_start_run(ws, caller, body.parent_id, body.experiment_name)
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


# Up to 100,000 runs: documented, not validated (`schemas/common.py`, `answers`).
@router.get("/runs", response_model=None, responses=answers(list[schemas.Run]))
def list_runs(
    request: Request,
    experiment: str | None = None,
    status: list[RunStatus] | None = Query(None),
    parent_id: str | None = None,
    id_prefix: str | None = None,
    display_name: str | None = None,
    limit: int = Query(1000, ge=1, le=100_000),
    caller: Caller = ReaderOrJob,
) -> Response:
    ws = workspace_of(request)
    authorization.check_may_list_runs(ws, caller, parent_id)
    found = ws.store.list_runs(
        experiment,
        statuses=status,
        parent_id=parent_id,
        id_prefix=id_prefix,
        display_name=display_name,
        limit=limit,
    )
    return prebuilt_json([run.to_dict() for run in found])


@router.get("/runs-silent", dependencies=[Reader], response_model=list[schemas.Run])
def list_runs_silent_since(since: schemas.Moment, request: Request) -> list[dict[str, Any]]:
    return [run.to_dict() for run in workspace_of(request).store.list_runs_silent_since(since)]


@router.get("/runs/{run_id}", dependencies=[RunReader], response_model=schemas.Run)
def get_run(run_id: str, request: Request) -> dict[str, Any]:
    # Through the reaper: a client waiting on a run whose process died here must see it end.
    return run_service.get_run(workspace_of(request), run_id).to_dict()


@router.post(
    "/runs/{run_id}/transition",
    dependencies=[RunOwner],
    response_model=schemas.Run,
    responses=error_responses(409),
)
def transition_run(run_id: str, body: schemas.TransitionIn, request: Request) -> dict[str, Any]:
    store = workspace_of(request).store
    return store.transition_run(run_id, body.target, error=body.error).to_dict()


@router.post("/runs/{run_id}/process", response_model=Empty, responses=error_responses(409))
def record_process(
    run_id: str, body: schemas.ProcessIn, request: Request, caller: Caller = RunOwner
) -> dict[str, Any]:
    ws = workspace_of(request)
    authorization.check_may_claim_process(ws, caller, run_id, body.host)
    ws.store.record_process(run_id, body.host, body.pid, body.pid_started_at)
    return {}


@router.post(
    "/runs/{run_id}/heartbeat",
    dependencies=[RunOwner],
    response_model=schemas.Run,
    responses=error_responses(409),
)
def heartbeat(run_id: str, request: Request) -> dict[str, Any]:
    return workspace_of(request).store.heartbeat(run_id).to_dict()


@router.post(
    "/runs/{run_id}/batch",
    dependencies=[RunOwner],
    response_model=Empty,
    responses=error_responses(409),
)
async def log_batch(run_id: str, body: schemas.BatchIn, request: Request) -> dict[str, Any]:
    # The hottest route (a job's metrics, a batch at a time): one worker-thread hand-off, for the
    # database; a sync route would take a second one to check its `{}` answer.
    await anyio.to_thread.run_sync(_log_batch, workspace_of(request), run_id, body)
    return {}


def _log_batch(ws: OpenWorkspace, run_id: str, body: schemas.BatchIn) -> None:
    metrics = [
        Metric(m["name"], float_from_json(m["value"]), m["step"], m["timestamp"])
        for m in body.metrics
    ]
    ws.store.log_batch(run_id, metrics, body.params, body.tags)


@router.post(
    "/runs/{run_id}/properties",
    dependencies=[RunOwner],
    response_model=Empty,
    responses=error_responses(409),
)
def add_properties(run_id: str, body: schemas.PropertiesIn, request: Request) -> dict[str, Any]:
    workspace_of(request).store.add_properties(run_id, body.properties)
    return {}


@router.get("/runs/{run_id}/metrics", dependencies=[RunReader], response_model=list[schemas.Metric])
def get_metric_history(
    run_id: str, request: Request, name: str | None = None
) -> list[dict[str, Any]]:
    history = workspace_of(request).store.get_metric_history(run_id, name)
    return [metric.to_dict() for metric in history]


@router.get("/runs/{run_id}/data", dependencies=[RunReader], response_model=schemas.RunData)
def get_run_data(run_id: str, request: Request) -> dict[str, Any]:
    return workspace_of(request).store.get_run_data(run_id).to_dict()


@router.post(
    "/runs/{run_id}/cancel",
    dependencies=[RunOwner],
    response_model=schemas.Run,
    responses=error_responses(409),
)
def cancel_run(run_id: str, request: Request) -> dict[str, Any]:
    return run_service.cancel_run(workspace_of(request), run_id).to_dict()


@router.post(
    "/runs/{run_id}/resume",
    dependencies=[RunOwner],
    response_model=schemas.Run,
    responses=error_responses(400, 409),
)
def resume_run(run_id: str, body: schemas.ResumeIn, request: Request) -> dict[str, Any]:
    """A sweep or AutoML run whose process died or that was canceled, queued again as its
    next attempt: it carries on from what its earlier attempts recorded."""
    return resume.resume_job(workspace_of(request), run_id, body.job).to_dict()


@router.post("/runs/{run_id}/requeue", response_model=schemas.Run, responses=error_responses(409))
def requeue_preempted_run(
    run_id: str, body: schemas.RequeueIn, request: Request, caller: Caller = RunOwner
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


@router.get("/runs/{run_id}/logs", dependencies=[RunReader], response_model=schemas.LogRead)
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
    responses={200: schemas.LOG_STREAM_RESPONSE},
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
