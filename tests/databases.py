"""The test databases: real SQLite, and real PostgreSQL at MODELYARD_TEST_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/test), each test in a schema of its own.
A module of its own, not conftest's: test modules import it by name, and each test folder may
have a conftest of its own."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from modelyard.services.workspaces import OpenWorkspace, create_workspace

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", "postgresql"]


def postgres_url() -> str:
    return os.environ.get("MODELYARD_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


@contextmanager
def module_workspace(
    backend: str, postgres_available: bool, root: Path, name: str
) -> Iterator[OpenWorkspace]:
    """A workspace a whole module shares, on `backend` (skipped where PostgreSQL is
    unreachable), in `root` with a Modelyard home of its own; closed, and its PostgreSQL schema
    dropped, afterwards."""
    if backend == "postgresql" and not postgres_available:
        pytest.skip(f"PostgreSQL at {postgres_url()} is unreachable")
    uris = _postgres_schema_uri() if backend == "postgresql" else None
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELYARD_HOME", str(root / "home"))
        ws = create_workspace(name, path=root / "ws", store_uri=next(uris) if uris else None)
    try:
        yield ws
    finally:
        ws.close()
        if uris is not None:
            next(uris, None)  # drops the schema


def _admin_engine():  # type: ignore[no-untyped-def]
    url = make_url(postgres_url()).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def _postgres_schema_uri() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        _drop_schema(engine, schema)
        engine.dispose()


def _drop_schema(engine, schema: str) -> None:  # type: ignore[no-untyped-def]
    """Dropped even while a job's process that outlived its test still reads it (a supervisor
    running its last scheduling pass): PostgreSQL may pick the drop as a deadlock's victim."""
    for attempt in range(10):
        try:
            with engine.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            return
        except DBAPIError as error:
            if "deadlock detected" not in str(error) or attempt == 9:
                raise
            time.sleep(0.5)
