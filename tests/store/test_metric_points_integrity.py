"""A metric point never refers to a missing run, and deleting a run deletes its points: kept by
the database itself, whatever writes to it. SQLite by a foreign key; PostgreSQL by triggers
that check a whole batch at once (migration 0007), also against a run deleted concurrently."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from modelyard.entities import Metric
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.sql.engine import make_engine
from modelyard.store.sql.metric_points import insert_metrics

_POINT = "INSERT INTO metrics (run_id, name, step, value, timestamp) VALUES (:run, 'x', 0, 1, 0)"


@pytest.fixture
def engine(workspace: OpenWorkspace) -> Iterator[Engine]:
    engine = make_engine(workspace.store.uri)
    yield engine
    engine.dispose()


def _points_of(engine: Engine, run_id: str) -> int:
    with engine.connect() as connection:
        query = text("SELECT count(*) FROM metrics WHERE run_id = :run")
        return int(connection.execute(query, {"run": run_id}).scalar_one())


def _run_with_points(workspace: OpenWorkspace) -> str:
    run_id = workspace.store.create_run("points", user="u").id
    workspace.store.log_batch(run_id, [Metric("x", float(i), i, time.time()) for i in range(5)])
    return run_id


def test_a_point_of_a_missing_run_is_refused_by_the_database(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    run_id = _run_with_points(workspace)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(_POINT), {"run": run_id})  # a run that exists: accepted,
        connection.execute(text(_POINT), {"run": "no-such-run"})  # this one: the whole refused
    assert _points_of(engine, run_id) == 5


def test_a_batch_with_one_missing_run_is_refused_whole(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    run_id = _run_with_points(workspace)
    rows = [{"run": run_id}] * 3 + [{"run": "no-such-run"}]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(_POINT), rows)
    assert _points_of(engine, run_id) == 5


def test_a_batch_copied_by_the_store_to_a_missing_run_is_refused(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    experiment_id = workspace.store.get_run(_run_with_points(workspace)).experiment_id
    points = [Metric("x", 1.0, step, 0.0) for step in range(3)]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        # PostgreSQL: one statement, the batch's runs checked once
        insert_metrics(connection, "no-such-run", experiment_id, points)
    assert _points_of(engine, "no-such-run") == 0


def test_a_point_cannot_move_to_a_missing_run(workspace: OpenWorkspace, engine: Engine) -> None:
    run_id = _run_with_points(workspace)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE metrics SET run_id = 'no-such-run'"))
    assert _points_of(engine, run_id) == 5


def test_deleting_a_run_deletes_its_points_and_only_its_own(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    deleted, kept = _run_with_points(workspace), _run_with_points(workspace)
    with engine.begin() as connection:
        for table in ("latest_metrics", "runs"):  # latest_metrics has its own foreign key
            key = "run_id" if table == "latest_metrics" else "id"
            connection.execute(text(f"DELETE FROM {table} WHERE {key} = :run"), {"run": deleted})
    assert (_points_of(engine, deleted), _points_of(engine, kept)) == (0, 5)


def test_the_id_of_a_run_with_points_cannot_change(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    run_id = _run_with_points(workspace)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("DELETE FROM latest_metrics WHERE run_id = :run"), {"run": run_id})
        connection.execute(text("UPDATE runs SET id = 'renamed' WHERE id = :run"), {"run": run_id})
    assert _points_of(engine, run_id) == 5


# PostgreSQL: a run deleted while a batch is written -----------------------------------------


def _on_postgresql(workspace: OpenWorkspace) -> None:
    if not workspace.store.uri.startswith("postgresql"):
        pytest.skip("SQLite's write lock covers the whole database: no two writers overlap")


def _waits_for_a_lock(engine: Engine, backend_pid: int) -> bool:
    with engine.connect() as connection:
        query = text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")
        return connection.execute(query, {"pid": backend_pid}).scalar() == "Lock"


def _in_thread_until_it_waits(
    engine: Engine, work: Callable[[Connection], None]
) -> tuple[threading.Thread, list[BaseException]]:
    """Runs `work` in a transaction of its own in a thread; returns once it waits for a lock."""
    errors: list[BaseException] = []
    started = threading.Event()
    pid: list[int] = []

    def run() -> None:
        try:
            with engine.begin() as connection:
                pid.append(int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one()))
                started.set()
                work(connection)
        except BaseException as error:  # reported to the test, which re-raises what it expects
            errors.append(error)
            started.set()

    thread = threading.Thread(target=run)
    thread.start()
    started.wait()
    while not errors and thread.is_alive() and not _waits_for_a_lock(engine, pid[0]):
        time.sleep(0.01)  # polling a condition, not timing anything
    return thread, errors


def test_a_batch_for_a_run_being_deleted_waits_then_fails(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    _on_postgresql(workspace)
    run_id = _run_with_points(workspace)
    with engine.begin() as deleter:
        deleter.execute(text("DELETE FROM latest_metrics WHERE run_id = :run"), {"run": run_id})
        deleter.execute(text("DELETE FROM runs WHERE id = :run"), {"run": run_id})
        writer, errors = _in_thread_until_it_waits(
            engine, lambda connection: connection.execute(text(_POINT), {"run": run_id})
        )
    writer.join()
    assert len(errors) == 1 and isinstance(errors[0], IntegrityError)
    assert "does not exist" in str(errors[0])
    assert _points_of(engine, run_id) == 0


def test_a_run_deleted_while_a_batch_is_written_takes_the_batch_with_it(
    workspace: OpenWorkspace, engine: Engine
) -> None:
    _on_postgresql(workspace)
    run_id = _run_with_points(workspace)
    with engine.begin() as writer:
        writer.execute(text(_POINT), {"run": run_id})  # holds the run: the delete must wait

        def delete(connection: Connection) -> None:
            connection.execute(
                text("DELETE FROM latest_metrics WHERE run_id = :run"), {"run": run_id}
            )
            connection.execute(text("DELETE FROM runs WHERE id = :run"), {"run": run_id})

        deleter, errors = _in_thread_until_it_waits(engine, delete)
    deleter.join()
    assert errors == []
    assert _points_of(engine, run_id) == 0  # the batch committed first, then went with its run


def test_emptying_runs_empties_the_points(workspace: OpenWorkspace, engine: Engine) -> None:
    _on_postgresql(workspace)
    run_id = _run_with_points(workspace)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE runs CASCADE"))
    assert _points_of(engine, run_id) == 0
