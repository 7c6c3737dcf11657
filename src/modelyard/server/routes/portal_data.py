"""Read-only JSON the portal's pages poll, useful to any client: a runs table, live run data.

- `GET /runs-query`: one page of runs, filtered, sorted and counted by the database;
- `GET /runs/{id}/details`: the run (after the reaper looked at it) with params, tags,
  properties and latest metrics;
- `GET /runs/{id}/metric-series`: every metric as chart points, each thinned to `max_points`
  with extremes kept; pass the `version` you got last to learn cheaply that nothing changed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from modelyard.entities import RunStatus, limits
from modelyard.entities.metric_series import DEFAULT_MAX_POINTS, MIN_MAX_POINTS
from modelyard.entities.records import float_to_json
from modelyard.entities.run_query import PAGE_SIZE_MAX, MetricFilter, RunQuery, parse_tag_filter
from modelyard.server.deps import Reader, RunReader, workspace_of
from modelyard.server.schemas import portal_data as schemas
from modelyard.server.schemas.common import answers, prebuilt_json
from modelyard.server.schemas.errors import error_responses
from modelyard.services.run_search import metric_series, search_runs
from modelyard.services.runs import get_run_details

router = APIRouter(tags=["portal"])


# Up to 1,000 runs: documented, not validated (`schemas/common.py`, `answers`).
@router.get(
    "/runs-query",
    dependencies=[Reader],
    response_model=None,
    responses={**answers(schemas.RunPage, "One page of runs"), **error_responses(404)},
)
def query_runs(
    request: Request,
    experiment: str | None = None,
    status: list[RunStatus] = Query(default_factory=list),
    tag: list[str] = Query(default_factory=list, description="KEY=VALUE; all must match"),
    metric: list[str] = Query(
        default_factory=list, description="a latest-value comparison like accuracy>0.9"
    ),
    sort: str = Query(
        "created", description="created, status, number, display_name or metric:NAME"
    ),
    order: str = Query("desc", pattern="^(asc|desc)$"),
    offset: int = Query(0, ge=0, le=limits.OFFSET_MAX),
    limit: int = Query(50, ge=1, le=PAGE_SIZE_MAX),
    parent: str | None = Query(
        None, description="only the child runs of this run (a sweep's trials)"
    ),
) -> Response:
    query = RunQuery(
        experiment=experiment,
        statuses=status,
        tags=dict(parse_tag_filter(text) for text in tag),
        metric_filters=[MetricFilter.parse(text) for text in metric],
        order_by=sort,
        descending=order == "desc",
        offset=offset,
        limit=limit,
        parent_id=parent,
    )
    page = search_runs(workspace_of(request), query)
    answer = {**page.to_dict(), "offset": offset, "limit": limit}
    return prebuilt_json(answer)


@router.get("/runs/{run_id}/details", dependencies=[RunReader], response_model=schemas.RunDetails)
def run_details(run_id: str, request: Request) -> dict[str, Any]:
    details = get_run_details(workspace_of(request), run_id)
    latest = {name: float_to_json(value) for name, value in details.data.latest_metrics.items()}
    return {**details.to_dict(), "metrics": latest}


@router.get(
    "/runs/{run_id}/metric-series",
    dependencies=[RunReader],
    response_model=schemas.MetricSeriesRead,
)
def run_metric_series(
    run_id: str,
    request: Request,
    name: list[str] = Query(default_factory=list, description="only these metrics"),
    max_points: int = Query(DEFAULT_MAX_POINTS, ge=MIN_MAX_POINTS, le=DEFAULT_MAX_POINTS),
    version: str | None = None,
) -> dict[str, Any]:
    return metric_series(workspace_of(request), run_id, name, max_points, version).to_dict()
