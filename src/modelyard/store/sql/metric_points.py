"""A batch's metric points into the database, with what `log_batch` keeps beside them: the
blocks' extremes (metric_blocks.py) and each metric's latest point and counts.

One pass over the batch does all of it: building the rows, the blocks, the counts and the
newest points in four passes was ~5 ms of Python in a 1,000-point batch, about half of the
store's time on PostgreSQL. The rows go straight to the driver: SQLite's `executemany`
(SQLAlchemy's per-row handling cost more than SQLite's insert itself) and PostgreSQL's `COPY`
(psycopg's `executemany` sends one INSERT per point, ~25 ms for 1,000).
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, OperationalError

from modelyard.entities import Metric
from modelyard.store.sql.metric_blocks import FinestBlocks, add_to_finest, blocks_of, merge_blocks

_Row = tuple[str, str, int, float | None, float]  # run_id, name, step, value (NULL: NaN), time
_POINT_COLUMNS: Final = "run_id, name, step, value, timestamp"
_INTO: Final = f"metrics ({_POINT_COLUMNS})"


def insert_metrics(
    connection: Connection, run_id: str, experiment_id: str, metrics: Sequence[Metric]
) -> None:
    """The points, their blocks and the latest values, in the caller's transaction."""
    if not metrics:
        return
    batch = _Batch.of(run_id, metrics)
    if connection.dialect.driver == "psycopg":
        _copy(connection, batch.rows)
    else:
        insert_points(connection, batch.rows)
    merge_blocks(connection, run_id, blocks_of(batch.finest))
    connection.execute(_UPSERT_LATEST, batch.latest_rows(run_id, experiment_id))


@dataclass
class _Batch:
    """What one pass over a batch's metrics gives: its rows, its finest blocks, and per metric
    the point count, the finite count and the newest point (highest step, then latest
    timestamp, then the later in the batch)."""

    rows: list[_Row] = field(default_factory=list)
    finest: FinestBlocks = field(default_factory=dict)
    counts: dict[str, list[int]] = field(default_factory=dict)
    newest: dict[str, tuple[int, float, float | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, run_id: str, metrics: Sequence[Metric]) -> _Batch:
        batch = cls()
        rows, finest, counts, newest = batch.rows, batch.finest, batch.counts, batch.newest
        for metric in metrics:
            name, step, moment = metric.name, metric.step, metric.timestamp
            number = float(metric.value)
            count = counts.get(name) or counts.setdefault(name, [0, 0])
            count[0] += 1
            if number - number == 0.0:  # finite: an infinity minus itself, or NaN, is NaN
                count[1] += 1
                add_to_finest(finest, name, step, number)
            value = None if number != number else number  # NaN is stored as NULL
            best = newest.get(name)
            if best is None or step > best[0] or (step == best[0] and moment >= best[1]):
                newest[name] = (step, moment, value)
            rows.append((run_id, name, step, value, moment))
        return batch

    def latest_rows(self, run_id: str, experiment_id: str) -> list[dict[str, Any]]:
        """Sorted by name, so that concurrent writers to one run take the rows' locks in the
        same order (PostgreSQL) and cannot deadlock."""
        return [
            {
                "run_id": run_id,
                "name": name,
                "experiment_id": experiment_id,
                "step": step,
                "value": value,
                "timestamp": moment,
                "points": self.counts[name][0],
                "finite_points": self.counts[name][1],
            }
            for name, (step, moment, value) in sorted(self.newest.items())
        ]


def insert_points(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    """(run_id, name, step, value, timestamp) rows straight to SQLite's driver, or through
    SQLAlchemy for a driver named in a store URI that is neither of ours."""
    if connection.dialect.driver != "pysqlite":
        columns = _POINT_COLUMNS.split(", ")
        statement = text(f"INSERT INTO {_INTO} VALUES ({', '.join(':' + c for c in columns)})")
        connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.executemany(f"INSERT INTO {_INTO} VALUES (?, ?, ?, ?, ?)", rows)
    except sqlite3.IntegrityError as error:  # The run was deleted meanwhile.
        raise IntegrityError(f"INSERT INTO {_INTO}", None, error) from error
    except sqlite3.OperationalError as error:  # a full disk, say: as SQLAlchemy would raise it
        raise OperationalError(f"INSERT INTO {_INTO}", None, error) from error
    finally:
        cursor.close()


def _copy(connection: Connection, rows: list[_Row]) -> None:
    """One COPY of the batch, in PostgreSQL's binary format written whole: psycopg's
    `write_row` costs ~4 µs a row in Python, and the text format had Python print each float
    and PostgreSQL parse it back (~1 ms of 1,000 points); packed as binary, each row is two
    ready byte strings."""
    import psycopg

    driver = connection.connection.driver_connection
    assert driver is not None
    statement = f"COPY {_INTO} FROM STDIN (FORMAT BINARY)"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(_binary_copy_data(rows))
    except psycopg.IntegrityError as error:  # The run was deleted meanwhile.
        raise IntegrityError(statement, None, error) from error
    except psycopg.OperationalError as error:  # a full disk, say: as SQLAlchemy would raise it
        raise OperationalError(statement, None, error) from error


# COPY's binary format: a signature, flags and an empty header extension; each row its field
# count, then each field as its length (-1: NULL) and its bytes (big-endian numbers, text in
# the connection's encoding, UTF-8); -1 as the field count ends the data.
_SIGNATURE: Final = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_TRAILER: Final = struct.pack(">h", -1)
_WITH_VALUE: Final = struct.Struct(">iqidid").pack  # step, value, timestamp
_NULL_VALUE: Final = struct.Struct(">iqiid").pack  # step, NULL, timestamp


def _binary_copy_data(rows: list[_Row]) -> bytes:
    parts = [_SIGNATURE]
    starts: dict[tuple[str, str], bytes] = {}  # a batch holds one run and few names
    for run_id, name, step, value, moment in rows:
        start = starts.get((run_id, name)) or starts.setdefault(
            (run_id, name), _row_start(run_id, name)
        )
        parts.append(start)
        if value is None:
            parts.append(_NULL_VALUE(8, step, -1, 8, moment))
        else:
            parts.append(_WITH_VALUE(8, step, 8, value, 8, moment))
    parts.append(_TRAILER)
    return b"".join(parts)


def _row_start(run_id: str, name: str) -> bytes:
    """A row's field count and its two text fields."""
    run, text = run_id.encode(), name.encode()
    return struct.pack(f">hi{len(run)}si{len(text)}s", 5, len(run), run, len(text), text)


# A run's latest point of a metric is replaced where the new one is newer (the highest step,
# then the latest timestamp: _Batch.newest's rule), and the batch's points are added to the
# counts in any case. The same text on SQLite and PostgreSQL.
_NEWER: Final = (
    "(excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step"
    " AND excluded.timestamp >= latest_metrics.timestamp))"
)
_UPSERT_LATEST: Final = text(f"""
INSERT INTO latest_metrics (run_id, name, experiment_id, step, value, timestamp, points,
  finite_points)
VALUES (:run_id, :name, :experiment_id, :step, :value, :timestamp, :points, :finite_points)
ON CONFLICT (run_id, name) DO UPDATE SET
  step = CASE WHEN {_NEWER} THEN excluded.step ELSE latest_metrics.step END,
  value = CASE WHEN {_NEWER} THEN excluded.value ELSE latest_metrics.value END,
  timestamp = CASE WHEN {_NEWER} THEN excluded.timestamp ELSE latest_metrics.timestamp END,
  points = latest_metrics.points + excluded.points,
  finite_points = latest_metrics.finite_points + excluded.finite_points
""")
