"""Migrations ship in the package, the ORM matches the migrated schema, stale ones are refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from modelyard.errors import SchemaOutOfDate, StoreUnavailable
from modelyard.services.workspaces import open_workspace, upgrade_schema
from modelyard.store.sql import schema
from modelyard.store.sql.engine import make_engine
from modelyard.store.sql.models import Base
from modelyard.store.sql.store import SqlStore


def test_orm_matches_migrated_schema(store_uri: str) -> None:
    engine = make_engine(store_uri)
    schema.upgrade(engine)
    with engine.connect() as connection:
        options: dict[str, object] = {"compare_type": True}
        if engine.dialect.name == "postgresql":
            options["include_object"] = _but_triggers_on_postgresql
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def _but_triggers_on_postgresql(
    item: object, name: str | None, kind: str, reflected: bool, compare_to: object
) -> bool:
    """Leaves out the one difference by design: on PostgreSQL, metrics→runs is kept by
    triggers, not a foreign key (0007; `tests/store/test_metric_points_integrity.py`)."""
    return not (kind == "foreign_key_constraint" and name == "fk_metrics_run_id_runs")


def test_users_and_tokens_migration_goes_down_and_up_again(store_uri: str) -> None:
    engine = make_engine(store_uri)
    schema.upgrade(engine)
    schema.downgrade(engine, "0001")
    assert {"users", "api_tokens"}.isdisjoint(inspect(engine).get_table_names())
    assert "runs" in inspect(engine).get_table_names()
    schema.upgrade(engine)
    assert {"users", "api_tokens"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_revisions_read_without_alembic_are_alembics_own(store_uri: str) -> None:
    # The store checks a schema without importing Alembic: file numbers and a plain SELECT.
    script = ScriptDirectory(str(schema.MIGRATIONS))
    chain = [revision.revision for revision in script.walk_revisions()][::-1]
    assert schema.shipped_revisions() == chain, (
        "name each migration versions/NNNN_what.py, with revision = 'NNNN' and down_revision"
        " the number before it: the schema check reads revisions from the file names"
    )
    assert [revision.down_revision for revision in script.walk_revisions()][::-1] == [
        None,
        *chain[:-1],
    ]
    assert schema.head_revision() == script.get_current_head()
    engine = make_engine(store_uri)
    assert schema.current_revision(engine) is None
    for revision in chain:
        schema.upgrade(engine, revision)
        with engine.connect() as connection:
            alembic_says = MigrationContext.configure(connection).get_current_revision()
        assert schema.current_revision(engine) == alembic_says == revision
    schema.downgrade(engine, "base")
    assert schema.current_revision(engine) is None
    engine.dispose()


def test_store_refuses_a_database_without_schema(store_uri: str) -> None:
    with pytest.raises(SchemaOutOfDate, match="modelyard db upgrade"):
        SqlStore(store_uri)


def test_older_schema_is_refused_until_upgraded(tmp_path: Path, workspace_factory) -> None:  # type: ignore[no-untyped-def]
    root = workspace_factory(tmp_path / "ws")
    engine = make_engine(f"sqlite:///{root / 'modelyard.db'}")
    schema.downgrade(engine, "base")  #: the database is now older than the code.
    with pytest.raises(SchemaOutOfDate) as caught:
        open_workspace(root)
    assert f"modelyard db upgrade --workspace {root}" in caught.value.message
    assert upgrade_schema(root) == (None, schema.head_revision())
    open_workspace(root).close()
    engine.dispose()


def test_database_of_the_previous_release_is_refused_then_upgraded_with_its_runs(
    tmp_path: Path, workspace_factory: Callable[[Path], Path]
) -> None:
    root = workspace_factory(tmp_path / "ws")
    ws = open_workspace(root)
    run_id = ws.store.create_run("kept", user="ana").id
    ws.close()
    engine = make_engine(f"sqlite:///{root / 'modelyard.db'}")
    schema.downgrade(engine, "0001")  #: before users and API tokens.
    with pytest.raises(SchemaOutOfDate, match="schema revision 0001, older than") as caught:
        open_workspace(root)
    assert f"modelyard db upgrade --workspace {root}" in caught.value.message
    assert upgrade_schema(root) == ("0001", schema.head_revision())
    ws = open_workspace(root)
    assert ws.store.get_run(run_id).experiment_name == "kept"
    assert ws.store.count_users() == 0
    ws.close()
    engine.dispose()


def test_unreachable_postgres_is_a_clear_error() -> None:
    with pytest.raises(StoreUnavailable, match="cannot reach the workspace database"):
        SqlStore("postgresql://nobody@127.0.0.1:1/none")


@pytest.fixture
def workspace_factory():  # type: ignore[no-untyped-def]
    from modelyard.services.workspaces import create_workspace

    def make(path: Path) -> Path:
        create_workspace("schema-ws", path=path).close()
        return path

    return make


def test_compute_migration_carries_runs_processes_over_as_handles_and_back(
    store_uri: str,
) -> None:
    engine = make_engine(store_uri)
    schema.upgrade(engine, "0008")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO experiments (id, name, created_at, run_counter)"
                " VALUES ('e1', 'old', CURRENT_TIMESTAMP, 2)"
            )
        )
        for run_id, number, status, pid in (("r1", 1, "Running", 4242), ("r2", 2, "Queued", None)):
            connection.execute(
                text(
                    "INSERT INTO runs (id, experiment_id, number, display_name, status,"
                    " user_name, created_at, host, pid, pid_started_at, source_arguments,"
                    " compute_target) VALUES (:id, 'e1', :number, :id, :status, 'u',"
                    " CURRENT_TIMESTAMP, 'box', :pid, :started, '[]', 'local')"
                ),
                {"id": run_id, "number": number, "status": status, "pid": pid, "started": 17.25},
            )
    schema.upgrade(engine)
    store = SqlStore(store_uri)
    running, queued = store.get_run("r1"), store.get_run("r2")
    assert running.handle == "pid:4242@box/17.25" and running.attempt == 1
    assert queued.handle is None and queued.queued_at is not None  # its place in the queue
    assert [c.name for c in store.list_computes()] == ["local"]
    store.close()
    schema.downgrade(engine, "0008")
    with engine.connect() as connection:
        row = connection.execute(text("SELECT host, pid, pid_started_at FROM runs WHERE id='r1'"))
        assert tuple(row.one()) == ("box", 4242, 17.25)
    engine.dispose()


REGISTRY_TABLES = {
    "registered_models",
    "model_versions",
    "model_files",
    "model_version_tags",
    "model_version_properties",
    "model_aliases",
}


def test_model_registry_migration_goes_down_and_up_again(store_uri: str) -> None:
    engine = make_engine(store_uri)
    schema.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= REGISTRY_TABLES
    schema.downgrade(engine, "0009")
    assert REGISTRY_TABLES.isdisjoint(inspect(engine).get_table_names())
    assert "computes" in inspect(engine).get_table_names()
    schema.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= REGISTRY_TABLES
    engine.dispose()
