"""Runs as the portal lists and charts them: a page of runs, metric series thinned for charts.

Both are reads of the workspace's store (`TrackingStore.query_runs`, `read_metric_series`),
SQL on the server's machine and REST elsewhere; the runs table runs the reaper first, so a run
whose process died shows as such wherever it is listed.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelyard.entities.metric_series import DEFAULT_MAX_POINTS, MetricSeriesRead
from modelyard.entities.run_query import RunPage, RunQuery
from modelyard.services.runs import reap_dead_runs
from modelyard.services.workspaces import OpenWorkspace


def search_runs(ws: OpenWorkspace, query: RunQuery) -> RunPage:
    """One page of runs with the latest values of the metrics its table shows; an unknown
    experiment is a NotFound, not an empty table."""
    reap_dead_runs(ws)
    return ws.store.query_runs(query)


def metric_series(
    ws: OpenWorkspace,
    run_id: str,
    names: Sequence[str] = (),
    max_points: int = DEFAULT_MAX_POINTS,
    known_version: str | None = None,
) -> MetricSeriesRead:
    """The run's metric series, each thinned to `max_points`; nothing new if `known_version`.

    The version changes whenever the run logs a point, so a page polling every second or two
    costs one small query while nothing happens.
    """
    return ws.store.read_metric_series(run_id, names, max_points, known_version)
