"""Runs as the portal lists and charts them: a page of runs, metric series thinned for charts.

Both call the store's SQL queries (`SqlStore.query_runs` and friends) and the run reaper, so a
run whose process died shows as such wherever it is listed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from modelyard.entities import Metric, Run, RunStatus
from modelyard.entities.records import float_to_json
from modelyard.services.downsample import DEFAULT_MAX_POINTS, min_max_downsample
from modelyard.services.runs import reap_dead_runs
from modelyard.services.workspaces import OpenWorkspace
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
    count, last_id = ws.sql_store.metric_log_position(run_id)
    version = f"{count}.{last_id}"
    if version == known_version:
        return {"version": version, "changed": False, "series": {}}
    by_name = _group_by_name(_history(ws, run_id, names))
    return {
        "version": version,
        "changed": True,
        "series": {name: _series(points, max_points) for name, points in by_name.items()},
    }


def _history(ws: OpenWorkspace, run_id: str, names: Sequence[str]) -> Iterable[Metric]:
    if len(names) == 1:
        return ws.store.get_metric_history(run_id, names[0])
    history = ws.store.get_metric_history(run_id)
    return [metric for metric in history if metric.name in names] if names else history


def _group_by_name(history: Iterable[Metric]) -> dict[str, list[Metric]]:
    grouped: dict[str, list[Metric]] = defaultdict(list)
    for metric in history:
        grouped[metric.name].append(metric)
    return dict(grouped)


def _series(metrics: list[Metric], max_points: int) -> dict[str, Any]:
    """Finite points by step (a chart has no place for NaN or infinity: they are counted)."""
    finite = [(m.step, m.value) for m in metrics if math.isfinite(m.value)]
    points = min_max_downsample(finite, max_points)
    return {
        "points": [[step, value] for step, value in points],
        "count": len(metrics),
        "non_finite": len(metrics) - len(finite),
        "downsampled": len(points) < len(finite),
        "last": float_to_json(metrics[-1].value) if metrics else None,
    }


def _json_floats(values: dict[str, float]) -> dict[str, Any]:
    return {name: float_to_json(value) for name, value in values.items()}
