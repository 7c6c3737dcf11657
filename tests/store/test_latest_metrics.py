"""`latest_metrics` follows what runs log, and migration 0004 fills it from older databases by
the same rule: the highest step, then the latest timestamp, then the last logged. On real
SQLite and real PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select

from modelyard.entities import Metric, RunStatus
from modelyard.entities.run_query import MetricFilter, RunQuery
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from modelyard.store.sql import schema
from modelyard.store.sql.engine import make_engine
from modelyard.store.sql.models import LatestMetricRow

T0 = 1_800_000_000.0


@pytest.fixture
def engine(workspace: OpenWorkspace) -> Iterator[Engine]:
    engine = make_engine(workspace.store.uri)
    yield engine
    engine.dispose()


def latest_rows(engine: Engine) -> dict[tuple[str, str], tuple[int, float | None, float]]:
    """{(run id, metric): (step, value, timestamp)}, NaN read back as None (stored as NULL)."""
    query = select(
        LatestMetricRow.run_id,
        LatestMetricRow.name,
        LatestMetricRow.step,
        LatestMetricRow.value,
        LatestMetricRow.timestamp,
    )
    with engine.connect() as connection:
        return {(r, n): (s, v, t) for r, n, s, v, t in connection.execute(query)}


def latest_of(workspace: OpenWorkspace, run_id: str, name: str) -> float | None:
    return workspace.store.latest_metric_values([run_id], [name])[run_id].get(name)


def test_a_higher_step_wins_whatever_the_order_of_logging(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    run = workspace.store.create_run("e", user="ana")
    workspace.store.log_batch(run.id, [Metric("loss", 0.5, 5, T0)])
    workspace.store.log_batch(run.id, [Metric("loss", 0.9, 2, T0 + 60)])  # older step, later
    assert latest_rows(engine)[run.id, "loss"] == (5, 0.5, T0)
    workspace.store.log_batch(run.id, [Metric("loss", 0.4, 6, T0 - 60)])  # newer step, earlier
    assert latest_rows(engine)[run.id, "loss"] == (6, 0.4, T0 - 60)


def test_on_an_equal_step_the_later_timestamp_wins(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    run = workspace.store.create_run("e", user="ana")
    workspace.store.log_batch(run.id, [Metric("acc", 0.7, 3, T0)])
    workspace.store.log_batch(run.id, [Metric("acc", 0.8, 3, T0 + 1)])
    assert latest_rows(engine)[run.id, "acc"] == (3, 0.8, T0 + 1)
    workspace.store.log_batch(run.id, [Metric("acc", 0.1, 3, T0 - 1)])  # an older point, late
    assert latest_rows(engine)[run.id, "acc"] == (3, 0.8, T0 + 1)
    workspace.store.log_batch(run.id, [Metric("acc", 0.9, 3, T0 + 1)])  # a tie: last logged
    assert latest_rows(engine)[run.id, "acc"] == (3, 0.9, T0 + 1)


def test_within_one_batch_the_same_rule_holds_for_each_metric(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    run = workspace.store.create_run("e", user="ana")
    batch = [
        Metric("loss", 0.3, 9, T0),
        Metric("loss", 0.6, 4, T0 + 9),
        Metric("acc", 0.5, 2, T0 + 1),
        Metric("acc", 0.6, 2, T0 + 2),
        Metric("acc", 0.4, 2, T0),
        Metric("lr", 0.01, 0, T0),
        Metric("lr", 0.02, 0, T0),
    ]
    workspace.store.log_batch(run.id, batch)
    rows = latest_rows(engine)
    assert rows[run.id, "loss"] == (9, 0.3, T0)
    assert rows[run.id, "acc"] == (2, 0.6, T0 + 2)
    assert rows[run.id, "lr"] == (0, 0.02, T0)
    other = workspace.store.create_run("e", user="ana")
    assert (other.id, "loss") not in rows


def test_nan_at_the_latest_step_hides_older_values_and_infinity_is_kept(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    store = workspace.store
    diverged, exploded = store.create_run("e", user="ana"), store.create_run("e", user="ana")
    store.log_batch(diverged.id, [Metric("loss", 0.5, 1, T0), Metric("loss", math.nan, 2, T0)])
    store.log_batch(exploded.id, [Metric("loss", 0.5, 1, T0), Metric("loss", math.inf, 2, T0)])
    assert latest_rows(engine)[diverged.id, "loss"] == (2, None, T0)
    assert latest_of(workspace, diverged.id, "loss") is None  # left out, as never logged
    assert latest_of(workspace, exploded.id, "loss") == math.inf
    page = store.query_runs(RunQuery("e", order_by="metric:loss", descending=True))
    assert [run.id for run in page.runs] == [exploded.id, diverged.id]
    assert store.query_runs(RunQuery("e", metric_filters=[MetricFilter.parse("loss>0")])).runs == [
        store.get_run(exploded.id)
    ]
    store.log_batch(diverged.id, [Metric("loss", 0.25, 3, T0)])  # recovers
    assert latest_of(workspace, diverged.id, "loss") == 0.25


def test_deleting_an_experiment_deletes_its_latest_values(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    run = workspace.store.create_run("gone", user="ana", status=RunStatus.RUNNING)
    kept = workspace.store.create_run("kept", user="ana")
    for run_id in (run.id, kept.id):
        workspace.store.log_batch(run_id, [Metric("loss", 0.5, 1, T0)])
    workspace.store.transition_run(run.id, RunStatus.COMPLETED)  # only ended runs go
    workspace.store.delete_experiment("gone")
    assert set(latest_rows(engine)) == {(kept.id, "loss")}


def test_migration_0004_fills_the_table_from_the_metrics_already_logged(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    store = workspace.store
    runs = [store.create_run("e", user="ana") for _ in range(3)]
    store.log_batch(runs[0].id, [Metric("loss", 0.5, 5, T0), Metric("acc", math.nan, 1, T0)])
    store.log_batch(runs[0].id, [Metric("loss", 0.9, 2, T0 + 60), Metric("loss", 0.4, 5, T0 + 1)])
    store.log_batch(runs[1].id, [Metric("acc", 0.7, 3, T0 + 2), Metric("acc", 0.1, 3, T0 + 1)])
    store.log_batch(runs[1].id, [Metric("acc", 0.8, 3, T0 + 2)])  # a tie: the last logged
    store.log_batch(runs[2].id, [Metric("acc", math.inf, 0, T0)])
    kept_by_log_batch = latest_rows(engine)
    assert kept_by_log_batch == {
        (runs[0].id, "loss"): (5, 0.4, T0 + 1),
        (runs[0].id, "acc"): (1, None, T0),
        (runs[1].id, "acc"): (3, 0.8, T0 + 2),
        (runs[2].id, "acc"): (0, math.inf, T0),
    }
    schema.downgrade(engine, "0003")
    assert "latest_metrics" not in inspect(engine).get_table_names()
    schema.upgrade(engine)
    assert latest_rows(engine) == kept_by_log_batch
    assert latest_experiment_ids(engine) == {runs[0].experiment_id}


def test_migration_0004_on_a_database_without_metrics(tmp_path: Path, store_uri: str) -> None:
    ws = create_workspace("empty-ws", path=tmp_path / "empty", store_uri=store_uri)
    engine = make_engine(store_uri)
    try:
        schema.downgrade(engine, "0003")
        schema.upgrade(engine)
        assert latest_rows(engine) == {}
    finally:
        engine.dispose()
        ws.close()


def latest_experiment_ids(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(LatestMetricRow.experiment_id)))
