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
from modelyard.store.sql.metric_blocks import BLOCK_STEPS
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
        dialect = session.get_bind().dialect.name
        block_steps = _block_steps_for(int(finite), last_step - first_step + 1, buckets, width)
        if block_steps is None:
            thinned = _thinned(dialect, all_finite=finite == count)
        else:
            thinned = _thinned_from_blocks(dialect)
            bounds["block_steps"] = block_steps
        rows = session.execute(thinned, {**metric, **bounds})
    points, times = [], []
    for step, value, logged_at in rows:
        points.append((step, value))
        times.append(logged_at)
    return MetricSeries(
        name,
        points,
        int(count),
        int(finite),
        None if count == 0 else (math.nan if last_value is None else last_value),
        times,
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
# the index: ORDER BY … LIMIT 1, for PostgreSQL planned min() and max() as a walk of the
# whole series where its statistics were stale (autovacuum off).
_SUMMARY = text(f"""
SELECT
  points,
  finite_points,
  (SELECT step FROM metrics WHERE {_OF_METRIC} AND {_FINITE} ORDER BY step LIMIT 1),
  (SELECT step FROM metrics WHERE {_OF_METRIC} AND {_FINITE} ORDER BY step DESC LIMIT 1),
  value
FROM latest_metrics WHERE {_OF_METRIC}
""")

_ALL_FINITE = text(
    f"SELECT step, value, timestamp FROM metrics WHERE {_OF_METRIC} AND {_FINITE} ORDER BY step, id"
)


def _with_times(points: str) -> TextClause:
    """The kept points with the time each was logged: one seek of the index and one row read
    per kept point (at most `max_points`), never a pass over the series. Of equal points
    logged at one step, the earliest time."""
    return text(f"""
SELECT kept.step, kept.value, (
  SELECT min(timestamp) FROM metrics
  WHERE {_OF_METRIC} AND step = kept.step AND value = kept.value
) FROM ({points}) AS kept
ORDER BY 1, 2
""")


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
SELECT metrics.step, metrics.value, metrics.timestamp
FROM kept JOIN metrics ON metrics.id = kept.id
ORDER BY metrics.step, metrics.id
""")


# PostgreSQL has no bare columns, but compares arrays element by element: the least
# [value, step] of a bucket is its lowest point (the earliest of equal ones). Grouping by bucket
# is then one pass over the series, hashed, in a third of the time a query per bucket takes.
# Steps pass through float8 here, exact below 2**53.
_THINNED_ON_POSTGRESQL = _with_times(f"""
WITH bucket AS (
  SELECT min(ARRAY[value, step]) AS low, max(ARRAY[value, step]) AS high
  FROM metrics WHERE {_OF_METRIC} AND {_FINITE}
  GROUP BY (step - :first_step) / :width
)
SELECT CAST(low[2] AS BIGINT) AS step, low[1] AS value FROM bucket
UNION SELECT CAST(high[2] AS BIGINT), high[1] FROM bucket
UNION (SELECT step, value FROM metrics WHERE {_OF_METRIC} AND {_FINITE} ORDER BY step, id LIMIT 1)
UNION (SELECT step, value FROM metrics WHERE {_OF_METRIC} AND {_FINITE}
       ORDER BY step DESC, id DESC LIMIT 1)
""")


# Blocks --------------------------------------------------------------------------------------


def _block_steps_for(finite: int, span: int, buckets: int, width: int) -> int | None:
    """The block width whose reads cost least, or None where reading the points costs less.
    A bucket is its whole blocks (two rows each, at most one per point) and the points of the
    blocks cut by its ends; a width at most the bucket's keeps every block within two buckets.
    """
    density = finite / span
    costs = {
        size: 2 * min(finite, math.ceil(span / size)) + min(finite, buckets * size * density)
        for size in BLOCK_STEPS
        if size <= width
    }
    if not costs:
        return None
    best = min(costs, key=lambda size: costs[size])
    return best if costs[best] * 4 < finite else None


def _thinned_from_blocks(dialect: str) -> TextClause:
    """The same points as `_thinned`, read from metric_blocks: a bucket's extremes are those of
    its whole blocks and of its own points in the blocks its ends cut. A block of at most
    `width` steps is cut by at most one end; integer division truncates, but a block starting
    before the first step lies in the first bucket either way."""
    if dialect == "sqlite":
        return _THINNED_FROM_BLOCKS_ON_SQLITE
    return _THINNED_FROM_BLOCKS_ON_POSTGRESQL


_OF_BLOCKS = "run_id = :run_id AND name = :name AND block_steps = :block_steps"
_WHOLE = (
    "(block_start - :first_step) / :width = (block_start + :block_steps - 1 - :first_step) / :width"
)
_CANDIDATES = f"""
cut(start) AS (
  SELECT boundary - boundary % :block_steps FROM boundary WHERE boundary % :block_steps <> 0
), candidate(step, value) AS (
  SELECT low_step, low_value FROM metric_blocks WHERE {_OF_BLOCKS} AND {_WHOLE}
  UNION ALL
  SELECT high_step, high_value FROM metric_blocks WHERE {_OF_BLOCKS} AND {_WHOLE}
  UNION ALL
  {{points_of_cut_blocks}}
)"""
# A range of the index per cut block, whatever the statistics say (autovacuum may be off, and
# a planner that thinks the series empty walks all of it once per cut): LATERAL on PostgreSQL,
# with OFFSET 0 so that the subquery is not pulled up into a plain join; SQLite, which has no
# LATERAL, plans the plain join as the same nested loop.
_CANDIDATES_ON_POSTGRESQL = _CANDIDATES.format(
    points_of_cut_blocks=f"""SELECT step, value FROM cut CROSS JOIN LATERAL (
    SELECT step, value FROM metrics WHERE {_OF_METRIC} AND {_FINITE}
      AND step >= cut.start AND step < cut.start + :block_steps OFFSET 0
  ) AS points"""
)
_CANDIDATES_ON_SQLITE = _CANDIDATES.format(
    points_of_cut_blocks=f"""SELECT step, value FROM cut JOIN metrics
    ON {_OF_METRIC} AND {_FINITE} AND step >= cut.start AND step < cut.start + :block_steps"""
)
_BOUNDARIES = """
WITH RECURSIVE boundary(boundary) AS (
  SELECT CAST(:first_step AS BIGINT) + :width WHERE :first_step + :width <= :last_step
  UNION ALL SELECT boundary + :width FROM boundary WHERE boundary + :width <= :last_step
),"""
# The first and last points, at the ends' known steps: ORDER BY step, id over the series
# would read (and sort) every point, the index holding no id.
_ENDS = (
    f"SELECT step, value FROM (SELECT step, value FROM metrics WHERE {_OF_METRIC} AND {_FINITE}"
    " AND step = :{end}_step ORDER BY id {direction} LIMIT 1) AS {end}"
)

_THINNED_FROM_BLOCKS_ON_POSTGRESQL = _with_times(f"""
{_BOUNDARIES}{_CANDIDATES_ON_POSTGRESQL}, bucket AS (
  SELECT min(ARRAY[value, step]) AS low, max(ARRAY[value, step]) AS high
  FROM candidate GROUP BY (step - :first_step) / :width
)
SELECT CAST(low[2] AS BIGINT) AS step, low[1] AS value FROM bucket
UNION SELECT CAST(high[2] AS BIGINT), high[1] FROM bucket
UNION {_ENDS.format(direction="ASC", end="first")}
UNION {_ENDS.format(direction="DESC", end="last")}
""")

# SQLite takes the bare column `step` from the row holding the min() or max() of its group.
_THINNED_FROM_BLOCKS_ON_SQLITE = _with_times(f"""
{_BOUNDARIES}{_CANDIDATES_ON_SQLITE}
SELECT step, value FROM (
  SELECT step, min(value) AS value FROM candidate GROUP BY (step - :first_step) / :width)
UNION SELECT step, value FROM (
  SELECT step, max(value) AS value FROM candidate GROUP BY (step - :first_step) / :width)
UNION {_ENDS.format(direction="ASC", end="first")}
UNION {_ENDS.format(direction="DESC", end="last")}
""")
