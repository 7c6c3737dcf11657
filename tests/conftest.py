"""Shared fixtures: an isolated Modelyard home, and workspaces on real SQLite and real PostgreSQL.

PostgreSQL tests use the server at MODELYARD_TEST_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test), each test in a schema of its own. Where the server
is unreachable they are skipped, except under CI=true, where that fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from databases import BACKENDS, _admin_engine, _postgres_schema_uri, postgres_url
from modelyard.services.workspaces import OpenWorkspace, create_workspace


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    try:
        engine = _admin_engine()
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {postgres_url()} is unreachable under CI=true: {error}")
        return False


@pytest.fixture(autouse=True)
def modelyard_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("modelyard-home")
    monkeypatch.setenv("MODELYARD_HOME", str(home))
    monkeypatch.delenv("MODELYARD_WORKSPACE", raising=False)
    monkeypatch.delenv("MODELYARD_RUN_ID", raising=False)
    monkeypatch.delenv("MODELYARD_WORKSPACE_PATH", raising=False)
    # Fast lifecycles for tests; the defaults suit real jobs.
    monkeypatch.setenv("MODELYARD_HEARTBEAT_INTERVAL_S", "0.3")
    monkeypatch.setenv("MODELYARD_HEARTBEAT_TIMEOUT_S", "3")
    monkeypatch.setenv("MODELYARD_POLL_INTERVAL_S", "0.1")
    monkeypatch.setenv("MODELYARD_CANCEL_GRACE_S", "3")
    return home


@pytest.fixture(params=BACKENDS)
def store_uri(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_available: bool
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'modelyard.db'}"
        return
    if not postgres_available:
        pytest.skip(f"PostgreSQL at {postgres_url()} is unreachable")
    yield from _postgres_schema_uri()


@pytest.fixture
def workspace(tmp_path: Path, store_uri: str) -> Iterator[OpenWorkspace]:
    ws = create_workspace("test-ws", path=tmp_path / "ws", store_uri=store_uri)
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Iterator[OpenWorkspace]:
    ws = create_workspace("test-ws", path=tmp_path / "ws")
    try:
        yield ws
    finally:
        ws.close()
