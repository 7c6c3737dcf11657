"""Runs as the portal lists and charts them: a page of runs, metric series thinned for charts.

Both call the store's SQL queries (`SqlStore.query_runs` and friends) and the run reaper, so a
run whose process died shows as such wherever it is listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from modelyard.entities import Run, RunStatus
from modelyard.entities.records import float_to_json
from modelyard.services.runs import reap_dead_runs
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.sql.metric_series import DEFAULT_MAX_POINTS, MetricSeries
from modelyard.store.sql.run_queries import METRIC_ORDER_PREFIX, MetricFilter, check_order

METRIC_COLUMNS_MAX: Final = 8


@dataclass(frozen=True)
class RunSearch:
    """Filters, sort and page of a runs table, as its URL gives them."""

    experiment: str | None = None
    statuses: tuple[RunStatus, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    metric_filters: tuple[MetricFilter, ...] = ()
    sort: str = "created"
    descending: bool = True
    offset: int = 0
    limit: int = 50

    def __post_init__(self) -> None:
        check_order(self.sort)

    @property
    def sort_metric(self) -> str | None:
        if self.sort.startswith(METRIC_ORDER_PREFIX):
            return self.sort[len(METRIC_ORDER_PREFIX) :]
        return None

    def mentioned_metrics(self) -> list[str]:
        """Metrics the user sorts or filters by: always shown as columns."""
        names = [self.sort_metric] if self.sort_metric else []
        names += [rule.name for rule in self.metric_filters]
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class RunSearchResult:
    runs: list[Run]
    total: int
    metric_columns: list[str]
    metrics: dict[str, dict[str, float]]  # run id -> metric name -> latest value

    def to_dict(self, search: RunSearch) -> dict[str, Any]:
        return {
            "total": self.total,
            "offset": search.offset,
            "limit": search.limit,
            "metric_columns": self.metric_columns,
            "runs": [
                {**run.to_dict(), "metrics": _json_floats(self.metrics.get(run.id, {}))}
                for run in self.runs
            ],
        }


def search_runs(ws: OpenWorkspace, search: RunSearch) -> RunSearchResult:
    reap_dead_runs(ws)
    # An unknown experiment is a NotFound from query_runs, not an empty table.
    page = ws.sql_store.query_runs(
        search.experiment,
        statuses=search.statuses,
        tags=search.tags,
        metric_filters=search.metric_filters,
        order_by=search.sort,
        descending=search.descending,
        offset=search.offset,
        limit=search.limit,
    )
    run_ids = [run.id for run in page.runs]
    columns = _metric_columns(search.mentioned_metrics(), ws.sql_store.metric_names(run_ids))
    values = ws.sql_store.latest_metric_values(run_ids, columns)
    return RunSearchResult(page.runs, page.total, columns, values)


def count_runs(ws: OpenWorkspace, statuses: Sequence[RunStatus] = ()) -> int:
    return ws.sql_store.query_runs(statuses=statuses, limit=1).total


def _metric_columns(mentioned: list[str], logged: list[str]) -> list[str]:
    others = [name for name in logged if name not in mentioned]
    return (mentioned + others)[: max(METRIC_COLUMNS_MAX, len(mentioned))]


# Metric series ---------------------------------------------------------------------------------


def metric_series(
    ws: OpenWorkspace,
    run_id: str,
    names: Sequence[str] = (),
    max_points: int = DEFAULT_MAX_POINTS,
    known_version: str | None = None,
) -> dict[str, Any]:
    """The run's metric series, each thinned to `max_points`; nothing new if `known_version`.

    The version changes whenever the run logs a point, so a page polling every second or two
    costs one small query while nothing happens. It is read before the points: a point logged in
    between is sent now and again next time, never missed.
    """
    ws.store.get_run(run_id)  # NotFound for an unknown run
    version = str(ws.sql_store.metric_points_logged(run_id))
    if version == known_version:
        return {"version": version, "changed": False, "series": {}}
    found = ws.sql_store.metric_series(run_id, names, max_points)
    return {
        "version": version,
        "changed": True,
        "series": {series.name: _series_json(series) for series in found},
    }


def _series_json(series: MetricSeries) -> dict[str, Any]:
    """Finite points by step (a chart has no place for NaN or infinity: they are counted)."""
    return {
        "points": [[step, value] for step, value in series.points],
        "count": series.count,
        "non_finite": series.non_finite,
        "downsampled": series.downsampled,
        "last": float_to_json(series.last),
    }


def _json_floats(values: dict[str, float]) -> dict[str, Any]:
    return {name: float_to_json(value) for name, value in values.items()}
