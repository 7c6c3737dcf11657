"""What `log_batch` keeps beside the points (each block's extremes, each metric's latest point
and counts) is what the points say, however they arrive: checked against a plain recount of
every point logged, on SQLite (computed in Python) and PostgreSQL (computed in one statement)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from modelyard.entities import Metric
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.sql.engine import make_engine
from modelyard.store.sql.metric_blocks import BLOCK_STEPS

# Names COPY or SQL would have to escape, and values that must stay out of the extremes.
NAMES = ("loss", "acc\tval", "a\\b\nc", "naïve")
VALUES = (0.5, -1.0, 0.5, 2.0, math.nan, math.inf, -math.inf, 1e300, -0.0)

Row = tuple[object, ...]


@pytest.fixture
def engine(workspace: OpenWorkspace) -> Iterator[Engine]:
    engine = make_engine(workspace.store.uri)
    yield engine
    engine.dispose()


def _random_batches(seed: int) -> list[list[Metric]]:
    """Batches with repeated steps and timestamps, out of order, some points far apart."""
    chooser = random.Random(seed)
    batches = []
    for _ in range(6):
        batch = []
        for _ in range(chooser.randint(1, 300)):
            step = chooser.choice((chooser.randint(0, 200), chooser.randint(0, 70_000), 2**62))
            value = chooser.choice((*VALUES, chooser.uniform(-5, 5)))
            moment = float(chooser.choice((1_800_000_000, 1_800_000_001, 1_800_000_002)))
            batch.append(Metric(chooser.choice(NAMES), value, step, moment))
        batches.append(batch)
    return batches


def _expected_blocks(run_id: str, points: list[Metric]) -> set[Row]:
    extremes: dict[tuple[str, int, int], list[tuple[float, int]]] = {}
    for point in points:
        if not math.isfinite(point.value):
            continue
        for size in BLOCK_STEPS:
            key = (point.name, size, point.step - point.step % size)
            extremes.setdefault(key, []).append((point.value, point.step))
    return {
        (run_id, name, size, start, min(found)[1], min(found)[0], max(found)[1], max(found)[0])
        for (name, size, start), found in extremes.items()
    }


def _expected_latest(run_id: str, points: list[Metric]) -> set[Row]:
    by_name: dict[str, list[tuple[int, float, int, Metric]]] = {}
    for order, point in enumerate(points):
        by_name.setdefault(point.name, []).append((point.step, point.timestamp, order, point))
    expected = set()
    for name, found in by_name.items():
        newest = max(found)[3]
        value = None if math.isnan(newest.value) else newest.value
        finite = sum(math.isfinite(point.value) for *_, point in found)
        expected.add((run_id, name, newest.step, value, newest.timestamp, len(found), finite))
    return expected


def _rows(engine: Engine, query: str, run_id: str) -> set[Row]:
    with engine.connect() as connection:
        return {tuple(row) for row in connection.execute(text(query), {"run": run_id})}


@pytest.mark.parametrize("seed", [1, 2])
def test_blocks_and_latest_values_match_a_recount_of_the_points(
    workspace: OpenWorkspace, engine: Engine, seed: int
) -> None:
    run_id = workspace.store.create_run("points", user="u").id
    logged: list[Metric] = []
    for batch in _random_batches(seed):
        workspace.store.log_batch(run_id, batch)
        logged += batch
    blocks = _rows(
        engine,
        "SELECT run_id, name, block_steps, block_start, low_step, low_value, high_step,"
        " high_value FROM metric_blocks WHERE run_id = :run",
        run_id,
    )
    assert blocks == _expected_blocks(run_id, logged)
    latest = _rows(
        engine,
        "SELECT run_id, name, step, value, timestamp, points, finite_points"
        " FROM latest_metrics WHERE run_id = :run",
        run_id,
    )
    assert latest == _expected_latest(run_id, logged)
    stored = _rows(engine, "SELECT name, step, value FROM metrics WHERE run_id = :run", run_id)
    assert stored == {
        (point.name, point.step, None if math.isnan(point.value) else point.value)
        for point in logged
    }
