"""A run's metric series thinned for a chart by the database: a million points never leave it.

A chart a few hundred pixels wide cannot show 100,000 points. A series longer than the chart's
`max_points` is split into equal ranges of steps ("buckets"); each bucket gives its lowest and
its highest point, and the series its first and last, so every spike survives (unlike averaging
or taking every n-th point) and the line keeps its envelope. SQLite reads a range of the
`(run_id, name, step, value)` index per bucket (migration 0005), never the table; PostgreSQL
groups the series in one hashed pass.

Only finite values are charted: a NaN is stored as NULL and infinities as themselves, and both
are counted instead (`non_finite`). The counts are the metric's `latest_metrics` row's, kept by
`log_batch`, so that no query counts the million points.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from functools import cache
from typing import Final

from sqlalchemy import TextClause, select, text
from sqlalchemy.orm import Session

from modelyard.entities.metric_series import MIN_MAX_POINTS, MetricSeries
from modelyard.store.sql.models import LatestMetricRow

_FINITE = "value BETWEEN :lowest AND :highest"  # NULL (NaN) and infinities are outside
_FINITE_BOUNDS: Final = {"lowest": -sys.float_info.max, "highest": sys.float_info.max}
_OF_METRIC = "run_id = :run_id AND name = :name"


def check_max_points(max_points: int) -> None:
    if max_points < MIN_MAX_POINTS:
        raise ValueError(f"max_points must be at least {MIN_MAX_POINTS}, not {max_points}")


def logged_metric_names(session: Session, run_id: str) -> list[str]:
    """From `latest_metrics` (a row per metric): DISTINCT over `metrics` would read every point."""
    query = (
        select(LatestMetricRow.name)
        .where(LatestMetricRow.run_id == run_id)
        .order_by(LatestMetricRow.name)
    )
    return list(session.scalars(query))


def read_series(session: Session, run_id: str, name: str, max_points: int) -> MetricSeries:
    """The metric's finite points, all of them if they fit in `max_points`, else thinned."""
    check_max_points(max_points)
    metric = {"run_id": run_id, "name": name, **_FINITE_BOUNDS}
    summary = session.execute(_SUMMARY, metric).one()
    count, finite, first_step, last_step, last_value = summary
    if finite <= max_points:
        rows = session.execute(_ALL_FINITE, metric)
    else:
        buckets = (max_points - 2) // 2
        width = math.ceil((last_step - first_step + 1) / buckets)
        bounds = {"first_step": first_step, "last_step": last_step, "width": width}
        thinned = _thinned(session.get_bind().dialect.name, all_finite=finite == count)
        rows = session.execute(thinned, {**metric, **bounds})
    return MetricSeries(
        name,
        [(step, value) for step, value in rows],
        int(count),
        int(finite),
        None if count == 0 else (math.nan if last_value is None else last_value),
    )


def read_all_series(
    session: Session, run_id: str, names: Sequence[str], max_points: int
) -> list[MetricSeries]:
    """The run's series by name: those in `names`, or every one when `names` is empty."""
    logged = logged_metric_names(session, run_id)
    wanted = [name for name in logged if name in names] if names else logged
    return [read_series(session, run_id, name, max_points) for name in wanted]


# The counts and the last value are kept by `log_batch` in the metric's `latest_metrics` row
# (the last by the runs table's rule: highest step, then latest time); the ends are seeks in
# the index.
_SUMMARY = text(f"""
SELECT
  points,
  finite_points,
  (SELECT min(step) FROM metrics WHERE {_OF_METRIC} AND {_FINITE}),
  (SELECT max(step) FROM metrics WHERE {_OF_METRIC} AND {_FINITE}),
  value
FROM latest_metrics WHERE {_OF_METRIC}
""")

_ALL_FINITE = text(
    f"SELECT step, value FROM metrics WHERE {_OF_METRIC} AND {_FINITE} ORDER BY step, id"
)


def _thinned(dialect: str, *, all_finite: bool) -> TextClause:
    """Buckets of `width` steps from the first finite point's step to the last one's; each
    bucket's low and high, and the first and last point; every point once, by step."""
    if dialect == "sqlite":
        return _thinned_on_sqlite(all_finite)
    return _THINNED_ON_POSTGRESQL


@cache
def _thinned_on_sqlite(all_finite: bool) -> TextClause:
    """Each bucket is a range of the index read twice, for its low and its high: SQLite takes a
    bare column (the id) from the row holding an aggregate's min() or max(), with no sort, where
    grouping the whole series by bucket would sort every point."""
    in_bucket = f"{_OF_METRIC} AND step >= bucket.lo AND step < bucket.lo + :width"
    if not all_finite:  # a test per point, left out where it cannot matter
        in_bucket += f" AND {_FINITE}"
    low, high = (
        f"(SELECT id FROM (SELECT id, {aggregate}(value) FROM metrics WHERE {in_bucket}))"
        for aggregate in ("min", "max")
    )
    first, last = (
        f"(SELECT id FROM metrics WHERE {_OF_METRIC} AND {_FINITE}"
        f" ORDER BY step {direction}, id {direction} LIMIT 1)"
        for direction in ("ASC", "DESC")
    )
    return text(f"""
WITH RECURSIVE bucket(lo) AS (
  SELECT :first_step UNION ALL SELECT lo + :width FROM bucket WHERE lo + :width <= :last_step
), kept(id) AS (
  SELECT {low} FROM bucket UNION SELECT {high} FROM bucket UNION SELECT {first} UNION SELECT {last}
)
SELECT metrics.step, metrics.value FROM kept JOIN metrics ON metrics.id = kept.id
ORDER BY metrics.step, metrics.id
""")


# PostgreSQL has no bare columns, but compares arrays element by element: the least
# [value, step] of a bucket is its lowest point (the earliest of equal ones). Grouping by bucket
# is then one pass over the series, hashed, in a third of the time a query per bucket takes.
# Steps pass through float8 here, exact below 2**53.
_THINNED_ON_POSTGRESQL = text(f"""
WITH bucket AS (
  SELECT min(ARRAY[value, step]) AS low, max(ARRAY[value, step]) AS high
  FROM metrics WHERE {_OF_METRIC} AND {_FINITE}
  GROUP BY (step - :first_step) / :width
)
SELECT CAST(low[2] AS BIGINT), low[1] FROM bucket
UNION SELECT CAST(high[2] AS BIGINT), high[1] FROM bucket
UNION (SELECT step, value FROM metrics WHERE {_OF_METRIC} AND {_FINITE} ORDER BY step, id LIMIT 1)
UNION (SELECT step, value FROM metrics WHERE {_OF_METRIC} AND {_FINITE}
       ORDER BY step DESC, id DESC LIMIT 1)
ORDER BY 1, 2
""")
