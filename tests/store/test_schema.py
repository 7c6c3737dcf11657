"""Migrations ship in the package, the ORM matches the migrated schema, stale ones are refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from modelyard.entities import Metric
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
            options["include_object"] = _but_by_design_on_postgresql
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def _but_by_design_on_postgresql(
    item: object, name: str | None, kind: str, reflected: bool, compare_to: object
) -> bool:
    """Leaves out the differences by design on PostgreSQL: metrics→runs is kept by triggers,
    not a foreign key (0007; `tests/store/test_metric_points_integrity.py`), and the series
    index is the primary key itself (0011; `test_postgresql_enters_a_point_in_one_index`)."""
    by_design = {
        ("foreign_key_constraint", "fk_metrics_run_id_runs"),
        ("index", "ix_metrics_run_id_name_step_value"),
    }
    return (kind, name) not in by_design


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


DATA_TABLES = {"data_assets", "data_versions", "data_version_tags", "run_inputs"}


def test_data_assets_migration_goes_down_and_up_again(store_uri: str) -> None:
    engine = make_engine(store_uri)
    schema.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= DATA_TABLES
    schema.downgrade(engine, "0013")
    assert DATA_TABLES.isdisjoint(inspect(engine).get_table_names())
    assert "deployments" in inspect(engine).get_table_names()
    schema.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= DATA_TABLES
    engine.dispose()


def test_postgresql_enters_a_point_in_one_index(store_uri: str) -> None:
    """0011: on PostgreSQL the primary key (run_id, name, step, id), carrying the value, is
    the series index; SQLite keeps its rowid and the series index. Points logged before and
    after survive the way down and up, and read back in the order they were logged."""
    engine = make_engine(store_uri)
    schema.upgrade(engine, "0010")
    store_before = _store_with_points(store_uri, engine, [(1, 0.5), (0, 0.25), (1, 0.75)])
    schema.upgrade(engine)
    indexes, primary_key = _metrics_indexes(engine)
    if engine.dialect.name == "postgresql":
        assert indexes == {"pk_metrics": "(run_id, name, step, id) INCLUDE (value)"}
    else:
        assert primary_key == ["id"] and "ix_metrics_run_id_name_step_value" in indexes
    store = SqlStore(store_uri)
    store.log_batch(store_before, [Metric("loss", 0.125, 1, 3.0)])
    history = [(m.step, m.value) for m in store.get_metric_history(store_before, "loss")]
    assert history == [(0, 0.25), (1, 0.5), (1, 0.75), (1, 0.125)]
    store.close()
    schema.downgrade(engine, "0010")
    assert _metrics_indexes(engine)[1] == ["id"]
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM metrics")) == 4
    schema.upgrade(engine)
    engine.dispose()


def _store_with_points(store_uri: str, engine: Engine, points: list[tuple[int, float]]) -> str:
    """A run with `loss` at (step, value), logged at this schema revision, in this order."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO experiments (id, name, created_at, run_counter)"
                " VALUES ('e1', 'old', CURRENT_TIMESTAMP, 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO runs (id, experiment_id, number, display_name, status, user_name,"
                " created_at, source_arguments, compute_target, attempt)"
                " VALUES ('r1', 'e1', 1, 'r1', 'Running', 'u', CURRENT_TIMESTAMP, '[]', 'local', 1)"
            )
        )
        for step, value in points:
            connection.execute(
                text(
                    "INSERT INTO metrics (run_id, name, step, value, timestamp)"
                    " VALUES ('r1', 'loss', :step, :value, 1.0)"
                ),
                {"step": step, "value": value},
            )
    return "r1"


def _metrics_indexes(engine: Engine) -> tuple[dict[str, str], list[str]]:
    """The metrics table's indexes (on PostgreSQL with their definitions' column part) and
    its primary key's columns."""
    inspector = inspect(engine)
    primary_key = inspector.get_pk_constraint("metrics")["constrained_columns"]
    if engine.dialect.name != "postgresql":
        return {index["name"] or "": "" for index in inspector.get_indexes("metrics")}, primary_key
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'metrics'"
                " AND schemaname = current_schema()"
            )
        )
        return {
            name: definition.partition(" USING btree ")[2] for name, definition in found
        }, primary_key
