"""The portal's pages: overview, experiments, runs tables, a run, an artifact, a comparison.

Routes parse the URL, call the services and store queries, and render a template; the pages'
script (static/portal.js) keeps a live run's status, charts and log up to date through the JSON
routes in `modelyard.server.routes.portal_data`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any, BinaryIO, Final
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse

from modelyard.entities import Run, RunStatus
from modelyard.entities.compute import ComputeTarget
from modelyard.entities.run_query import MetricFilter, RunQuery, parse_tag_filter
from modelyard.errors import InvalidValue, NotFound
from modelyard.server.deps import workspace_of
from modelyard.server.portal import views
from modelyard.server.portal.rendering import PortalRoute, render
from modelyard.server.portal.session import page_user
from modelyard.services.computes import get_compute
from modelyard.services.run_search import count_runs, search_runs
from modelyard.services.runs import RunDetails, get_run_details, list_attempts
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.artifacts import CHUNK_SIZE

PAGE_SIZES: Final = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE: Final = 50
RECENT_RUNS: Final = 10
COMPARE_MAX: Final = 10
# Distinct colours for compared runs and chart series, in order (also in portal.js).
SERIES_COLORS: Final = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
    "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
)  # fmt: skip
FILE_CSP: Final = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
API: Final = "/api/v1"
# The overview's "active runs": waiting for a node, or holding one.
ACTIVE_STATUSES: Final = tuple(
    status for status in RunStatus if status.holds_node or status is RunStatus.QUEUED
)
# While a run is in one of these, the run page says why it waits (the run's `status_detail`).
WAITING_STATUSES: Final = (RunStatus.QUEUED, RunStatus.PREEMPTED)

router = APIRouter(
    route_class=PortalRoute, include_in_schema=False, dependencies=[Depends(page_user)]
)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    ws = workspace_of(request)
    context = {
        "title": "Overview",
        "experiments": ws.store.list_experiments(),
        "recent": search_runs(ws, RunQuery(limit=RECENT_RUNS)),
        "run_count": count_runs(ws),
        "active_count": count_runs(ws, ACTIVE_STATUSES),
        "active_statuses": [status.value for status in ACTIVE_STATUSES],
    }
    return render(request, "overview.html", context)


@router.get("/experiments", response_class=HTMLResponse)
def experiments(request: Request) -> Response:
    found = workspace_of(request).store.list_experiments()
    return render(request, "experiments.html", {"title": "Experiments", "experiments": found})


@router.get("/experiments/{name}", response_class=HTMLResponse)
def experiment_runs(name: str, request: Request) -> Response:
    workspace_of(request).store.get_experiment(name)  # an unknown name is a 404 page
    return _runs_table(request, name)


@router.get("/runs", response_class=HTMLResponse)
def all_runs(request: Request) -> Response:
    return _runs_table(request, None)


def _runs_table(request: Request, experiment: str | None) -> Response:
    params = request.query_params
    size = _page_size(params.get("size"))
    page = max(1, _integer(params.get("page"), 1))
    context: dict[str, Any] = {
        "title": experiment or "All runs",
        "experiment": experiment,
        "params": {key: params.getlist(key) for key in params},
        "statuses": list(RunStatus),
        "selected_statuses": set(params.getlist("status")),
        "tag_text": ", ".join(v for v in params.getlist("tag") if v),
        "metric_text": ", ".join(v for v in params.getlist("metric") if v),
        "page": page,
        "size": size,
        "page_sizes": PAGE_SIZES,
        "error": None,
        "result": None,
    }
    try:
        search = _search_from(request, experiment, page, size)
        context["search"] = search
        context["result"] = search_runs(workspace_of(request), search)
    except InvalidValue as error:
        context["error"] = error.message
        return render(request, "runs.html", context, status_code=400)
    context["pages"] = max(1, math.ceil(context["result"].total / size))
    return render(request, "runs.html", context)


def _search_from(request: Request, experiment: str | None, page: int, size: int) -> RunQuery:
    params = request.query_params
    try:
        statuses = tuple(RunStatus(value) for value in params.getlist("status") if value)
    except ValueError as error:
        raise InvalidValue(f"unknown run status in the filter: {error}") from error
    tags = dict(parse_tag_filter(text) for text in _split(params.getlist("tag")))
    rules = tuple(MetricFilter.parse(text) for text in _split(params.getlist("metric")))
    return RunQuery(
        experiment=experiment,
        statuses=statuses,
        tags=tags,
        metric_filters=rules,
        order_by=params.get("sort") or "created",
        descending=params.get("order", "desc") != "asc",
        offset=(page - 1) * size,
        limit=size,
    )


def _split(values: list[str]) -> list[str]:
    """The form's filter boxes take several filters separated by commas."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _page_size(text: str | None) -> int:
    size = _integer(text, DEFAULT_PAGE_SIZE)
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def _integer(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


# One run -------------------------------------------------------------------------------------


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: str, request: Request, folder: str = Query("", alias="dir")) -> Response:
    ws = workspace_of(request)
    details = get_run_details(ws, run_id)
    logs = views.log_files(ws, run_id)
    context = {
        "title": details.run.display_name,
        "run": details.run,
        "data": details.data,
        "compute": _compute_of(ws, details.run),
        "waiting": details.run.status in WAITING_STATUSES and bool(details.run.status_detail),
        "attempts": list_attempts(ws, run_id),
        "timeline": _timeline(details.run),
        "listing": views.list_folder(ws, run_id, folder),
        "guardrails": views.guardrails_view(
            views.read_json_artifact(ws, run_id, views.GUARDRAILS_PATH)
        ),
        "confusion_matrix": (
            views.CONFUSION_MATRIX_PATH
            if views.artifact_exists(ws, run_id, views.CONFUSION_MATRIX_PATH)
            else None
        ),
        "logs": logs,
        "live": {
            "api": API,
            "run_id": run_id,
            "terminal": details.run.status.is_terminal,
            "terminal_statuses": [status.value for status in RunStatus if status.is_terminal],
            "waiting_statuses": [status.value for status in WAITING_STATUSES],
            "attempt": details.run.attempt,
            "logs": [{"path": log.path, "offset": log.tail_offset} for log in logs],
            "cut": logs[0].tail_offset > 0,
        },
    }
    return render(request, "run.html", context)


def _compute_of(ws: OpenWorkspace, run: Run) -> ComputeTarget | None:
    """The run's compute, or None for an interactive run or a compute deleted since."""
    if run.compute_target is None:
        return None
    try:
        return get_compute(ws, run.compute_target)
    except NotFound:
        return None


def _timeline(run: Run) -> list[dict[str, Any]]:
    steps = [
        ("Created", run.created_at),
        ("Started", run.started_at),
        ("Ended", run.ended_at),
    ]
    return [{"label": label, "at": moment} for label, moment in steps]


@router.get("/runs/{run_id}/artifact", response_class=HTMLResponse)
def artifact_page(run_id: str, request: Request, path: str) -> Response:
    ws = workspace_of(request)
    run = ws.store.get_run(run_id)
    context = {
        "title": PurePosixPath(path).name,
        "run": run,
        "path": path,
        "folder": _folder_of(path),
        "preview": views.preview(ws, run_id, path),
    }
    return render(request, "artifact.html", context)


def _folder_of(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent


@router.get("/runs/{run_id}/file")
def artifact_file(run_id: str, request: Request, path: str, download: bool = False) -> Response:
    """The artifact's bytes: images and text inline (sandboxed), anything else as a download."""
    ws = workspace_of(request)
    ws.store.get_run(run_id)
    handle = ws.artifacts.open_read(run_id, path)
    kind = None if download else views.media_type(path)
    name = quote(PurePosixPath(path).name)
    disposition = "inline" if kind else "attachment"
    return StreamingResponse(
        _chunks(handle),
        media_type=kind or "application/octet-stream",
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{name}",
            "Content-Security-Policy": FILE_CSP,
            "Content-Length": str(views.file_size(handle)),
        },
    )


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


# Comparing runs ------------------------------------------------------------------------------


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, run: list[str] = Query(default_factory=list)) -> Response:
    ws = workspace_of(request)
    run_ids = list(dict.fromkeys(run))[:COMPARE_MAX]
    if len(run_ids) < 2:
        raise InvalidValue(
            "pick at least two runs to compare: tick them in a runs table, then Compare",
            runs=run_ids,
        )
    compared = [get_run_details(ws, run_id) for run_id in run_ids]
    context = {
        "title": "Compare runs",
        "compared": compared,
        "colors": SERIES_COLORS,
        "params": _diff(compared, "params"),
        "metrics": _diff(compared, "latest_metrics"),
        "live": {
            "api": API,
            "runs": [
                {
                    "id": item.run.id,
                    "label": f"{item.run.display_name} (#{item.run.number})",
                    "color": SERIES_COLORS[index % len(SERIES_COLORS)],
                    "terminal": item.run.status.is_terminal,
                }
                for index, item in enumerate(compared)
            ],
        },
    }
    return render(request, "compare.html", context)


def _diff(compared: list[RunDetails], field: str) -> list[dict[str, Any]]:
    """One row per key any run has: its value in each run, and whether they differ."""
    tables = [getattr(item.data, field) for item in compared]
    keys = sorted({key for table in tables for key in table})
    rows = []
    for key in keys:
        values = [table.get(key) for table in tables]
        rows.append({"key": key, "values": values, "differs": len({repr(v) for v in values}) > 1})
    return rows
