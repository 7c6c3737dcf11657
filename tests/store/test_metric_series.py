"""Chart series thinned by the database: at most `max_points` real points, the global extremes,
each bucket's extremes and both ends kept; a short series whole, exactly as logged. On real
SQLite and PostgreSQL."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from modelyard.entities import Metric, RunStatus
from modelyard.entities.metric_series import DEFAULT_MAX_POINTS, MetricSeries
from modelyard.services.workspaces import (
    OpenWorkspace,
    create_workspace,
    open_workspace,
    upgrade_schema,
)
from modelyard.store.sql import schema
from modelyard.store.sql.engine import make_engine


def _log(ws: OpenWorkspace, run_id: str, name: str, values: list[float], first: int = 0) -> None:
    now = time.time()
    metrics = [Metric(name, value, first + i, now) for i, value in enumerate(values)]
    for start in range(0, len(metrics), 1000):
        ws.store.log_batch(run_id, metrics[start : start + 1000])


def _noisy(count: int, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [math.sin(step / 500) + rng.gauss(0, 0.1) for step in range(count)]


def _series(
    ws: OpenWorkspace, run_id: str, name: str, max_points: int = DEFAULT_MAX_POINTS
) -> MetricSeries:
    (series,) = ws.sql_store.metric_series(run_id, [name], max_points)
    return series


def test_a_short_series_comes_whole_and_in_order(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("s", user="ana")
    values = _noisy(DEFAULT_MAX_POINTS)
    _log(workspace, run.id, "loss", values[1000:], first=1000)  # logged out of order
    _log(workspace, run.id, "loss", values[:1000])
    series = _series(workspace, run.id, "loss")
    assert series.points == list(enumerate(values))
    assert series.count == series.finite == DEFAULT_MAX_POINTS and not series.downsampled
    assert series.last == values[-1]


@pytest.mark.parametrize("max_points", [4, 5, 101, 2000])
def test_a_long_series_keeps_its_ends_and_extremes_within_the_limit(
    workspace: OpenWorkspace, max_points: int
) -> None:
    run = workspace.store.create_run("s", user="ana")
    values = _noisy(9_000, seed=max_points)
    values[3_333], values[7_001] = 9.5, -4.0
    _log(workspace, run.id, "loss", values, first=10)
    logged = [(10 + i, value) for i, value in enumerate(values)]
    series = _series(workspace, run.id, "loss", max_points)
    assert series.downsampled and len(series.points) <= max_points
    assert series.points[0] == logged[0] and series.points[-1] == logged[-1]
    assert (3_343, 9.5) in series.points and (7_011, -4.0) in series.points
    assert set(series.points) <= set(logged)  # real points, exactly as logged
    steps = [step for step, _ in series.points]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)


def test_every_step_bucket_keeps_its_own_extremes(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("s", user="ana")
    values = _noisy(20_000, seed=7)
    _log(workspace, run.id, "loss", values)
    kept = set(_series(workspace, run.id, "loss", 1000).points)
    buckets = (1000 - 2) // 2
    width = math.ceil(len(values) / buckets)
    for start in range(0, len(values), width):
        bucket = list(enumerate(values))[start : start + width]
        assert min(bucket, key=lambda p: p[1]) in kept
        assert max(bucket, key=lambda p: p[1]) in kept


def test_non_finite_points_are_counted_not_charted(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("s", user="ana")
    values = _noisy(5_000)
    values[0], values[2_500], values[-1] = math.nan, math.inf, -math.inf
    _log(workspace, run.id, "loss", values)
    series = _series(workspace, run.id, "loss")
    assert series.count == 5_000 and series.non_finite == 3 and series.finite == 4_997
    assert series.points[0] == (1, values[1]) and series.points[-1] == (4_998, values[4_998])
    assert all(math.isfinite(value) for _, value in series.points)
    assert series.last == -math.inf
    last = _series_of(workspace, [math.inf, math.nan]).last
    assert last is not None and math.isnan(last)


def _series_of(
    ws: OpenWorkspace, values: list[float], max_points: int = DEFAULT_MAX_POINTS
) -> MetricSeries:
    run = ws.store.create_run("s", user="ana")
    _log(ws, run.id, "m", values)
    return _series(ws, run.id, "m", max_points)


def test_a_series_of_only_non_finite_points_has_none_to_chart(workspace: OpenWorkspace) -> None:
    series = _series_of(workspace, [math.nan] * 3000)
    assert series.points == [] and series.count == series.non_finite == 3000


def test_a_flat_series_keeps_one_point_per_bucket(workspace: OpenWorkspace) -> None:
    series = _series_of(workspace, [1.0] * 10_000, max_points=100)
    assert 50 <= len(series.points) <= 100
    assert series.points[0] == (0, 1.0) and series.points[-1] == (9_999, 1.0)


def test_repeated_steps_and_other_runs_stay_apart(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("s", user="ana")
    other = workspace.store.create_run("s", user="ana")
    _log(workspace, other.id, "loss", [100.0] * 3000)
    now = time.time()
    workspace.store.log_batch(run.id, [Metric("loss", v, 5, now) for v in (3.0, -1.0, 2.0)])
    workspace.store.log_batch(run.id, [Metric("acc", 0.5, 1, now)])
    by_name = {s.name: s for s in workspace.sql_store.metric_series(run.id)}
    assert list(by_name) == ["acc", "loss"]
    assert by_name["loss"].points == [(5, 3.0), (5, -1.0), (5, 2.0)]
    assert by_name["loss"].last == 2.0  # the last logged on the highest step
    assert workspace.sql_store.metric_series(run.id, ["nope"]) == []


def test_a_charts_last_value_is_the_runs_latest_metric(workspace: OpenWorkspace) -> None:
    # One rule for "latest" everywhere: highest step, then latest time (not the last logged).
    run = workspace.store.create_run("s", user="ana")
    workspace.store.log_batch(run.id, [Metric("loss", 1.0, 7, 200.0)])
    workspace.store.log_batch(run.id, [Metric("loss", 9.0, 7, 100.0)])  # same step, older
    (series,) = workspace.sql_store.metric_series(run.id, ["loss"])
    assert series.last == workspace.store.get_run_data(run.id).latest_metrics["loss"] == 1.0


def test_counts_kept_by_log_batch_match_the_points_and_move_the_version(
    workspace: OpenWorkspace,
) -> None:
    run = workspace.store.create_run("s", user="ana")
    _log(workspace, run.id, "loss", [1.0, math.nan, math.inf, 2.0])
    _log(workspace, run.id, "acc", [0.5] * 3)
    assert workspace.sql_store.metric_points_logged(run.id) == 7
    _log(workspace, run.id, "loss", [0.5])  # an older step, not the latest point: counted
    assert workspace.sql_store.metric_points_logged(run.id) == 8
    loss = _series(workspace, run.id, "loss")
    assert (loss.count, loss.finite) == (5, 3) and loss.last == 2.0


def test_the_migration_counts_the_points_logged_before_it(tmp_path: Path) -> None:
    ws = create_workspace("old-ws", path=tmp_path / "ws")
    run = ws.store.create_run("s", user="ana")
    _log(ws, run.id, "loss", [1.0, math.nan, -math.inf, 2.0, 3.0])
    engine = make_engine(f"sqlite:///{ws.root / 'modelyard.db'}")
    ws.close()
    schema.downgrade(engine, "0004")
    upgrade_schema(ws.root)
    engine.dispose()
    reopened = open_workspace(ws.root)
    loss = _series(reopened, run.id, "loss")
    assert (loss.count, loss.finite, loss.points) == (5, 3, [(0, 1.0), (3, 2.0), (4, 3.0)])
    reopened.close()


def _expected_thinning(logged: list[tuple[int, float]], max_points: int) -> list[tuple[int, float]]:
    """The specification, in Python: each step bucket's lowest and highest finite point (by
    value, then step), the first and the last (the earliest logged on a tied step), by step."""
    finite = [(step, value) for step, value in logged if math.isfinite(value)]
    first = min(finite, key=lambda point: point[0])
    last = max(reversed(finite), key=lambda point: point[0])
    buckets = (max_points - 2) // 2
    width = math.ceil((last[0] - first[0] + 1) / buckets)
    grouped: dict[int, list[tuple[int, float]]] = {}
    for step, value in finite:
        grouped.setdefault((step - first[0]) // width, []).append((step, value))
    kept = {first, last}
    for points in grouped.values():
        kept.add(min(points, key=lambda point: (point[1], point[0])))
        kept.add(max(points, key=lambda point: (point[1], point[0])))
    return sorted(kept)


@pytest.mark.parametrize("stride", [1, 7, 1000])
@pytest.mark.parametrize("max_points", [4, 20, 60, 600])
def test_thinning_returns_exactly_each_buckets_extremes_and_the_ends(
    workspace: OpenWorkspace, stride: int, max_points: int
) -> None:
    # Long buckets are read from metric_blocks, short ones from the points: the same points
    # either way, whatever the order of logging, repeated steps and non-finite values.
    rng = random.Random(stride * 1000 + max_points)
    logged = [(step * stride, rng.gauss(0, 1)) for step in range(12_000)]
    logged += [(rng.randrange(12_000) * stride, rng.gauss(0, 3)) for _ in range(500)]
    for index in rng.sample(range(len(logged)), 50):
        logged[index] = (logged[index][0], rng.choice([math.nan, math.inf, -math.inf]))
    rng.shuffle(logged)
    run = workspace.store.create_run("s", user="ana")
    for start in range(0, len(logged), 1000):
        batch = [Metric("loss", value, step, 1.0) for step, value in logged[start : start + 1000]]
        workspace.store.log_batch(run.id, batch)
    series = _series(workspace, run.id, "loss", max_points)
    # by step; points of one step in any order (SQLite's by id, PostgreSQL's by value)
    assert sorted(series.points) == _expected_thinning(logged, max_points)
    assert [step for step, _ in series.points] == sorted(step for step, _ in series.points)


def _blocks(uri: str) -> set[tuple[object, ...]]:
    engine = make_engine(uri)
    try:
        with engine.connect() as connection:
            return {tuple(row) for row in connection.execute(text("SELECT * FROM metric_blocks"))}
    finally:
        engine.dispose()


def test_deleting_an_experiment_deletes_its_runs_blocks(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("gone", user="ana", status=RunStatus.RUNNING)
    kept = workspace.store.create_run("kept", user="ana")
    for run_id in (run.id, kept.id):
        _log(workspace, run_id, "loss", _noisy(3000))
    workspace.store.transition_run(run.id, RunStatus.COMPLETED)  # only ended runs go
    workspace.store.delete_experiment("gone")
    assert {block[0] for block in _blocks(workspace.store.uri)} == {kept.id}


def test_migration_0008_fills_the_blocks_of_the_points_logged_before_it(
    workspace: OpenWorkspace,
) -> None:
    run = workspace.store.create_run("s", user="ana")
    values = _noisy(5_000, seed=3)
    values[10], values[4_000] = math.nan, math.inf
    _log(workspace, run.id, "loss", values[2_500:], first=2_500)
    _log(workspace, run.id, "loss", values[:2_500])
    _log(workspace, run.id, "acc", [0.25, 0.75, 0.5], first=10**7)
    kept_by_log_batch = _blocks(workspace.store.uri)
    engine = make_engine(workspace.store.uri)
    try:
        schema.downgrade(engine, "0007")
        schema.upgrade(engine)
    finally:
        engine.dispose()
    assert _blocks(workspace.store.uri) == kept_by_log_batch
    assert len(kept_by_log_batch) == (79 + 10 + 2 + 4) + 7  # loss: 64, 512 … steps; acc


def test_each_charted_point_comes_with_the_time_it_was_logged(workspace: OpenWorkspace) -> None:
    # Whole or thinned (from the points or from metric_blocks), every kept point's time: the
    # charts' wall-time and relative-time axes.
    run = workspace.store.create_run("s", user="ana")
    values = _noisy(30_000, seed=11)
    logged = [Metric("loss", value, step, 1000.0 + step / 4) for step, value in enumerate(values)]
    logged += [Metric("short", value, step, 50.0 + step) for step, value in enumerate(values[:50])]
    for start in range(0, len(logged), 1000):
        workspace.store.log_batch(run.id, logged[start : start + 1000])
    for max_points in (DEFAULT_MAX_POINTS, 600, 20):
        series = _series(workspace, run.id, "loss", max_points)
        assert series.downsampled and len(series.times) == len(series.points)
        assert series.times == [1000.0 + step / 4 for step, _ in series.points]
    short = _series(workspace, run.id, "short")
    assert short.times == [50.0 + step for step in range(50)]
    assert MetricSeries.from_dict("short", short.to_dict()) == short
