"""PostgreSQL connections from the pool: pinged after sitting idle, not before every use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from databases import _admin_engine
from modelyard.store.sql import engine as engines


@pytest.fixture
def postgres_engine(store_uri: str) -> Iterator[Engine]:
    if not store_uri.startswith("postgresql"):
        pytest.skip("the pool's ping is PostgreSQL's: SQLite opens a file")
    engine = engines.make_engine(store_uri)
    yield engine
    engine.dispose()


def test_a_connection_whose_server_side_ended_while_idle_is_replaced(
    postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(postgres_engine)
    _terminate(first)
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_S", 0.0)  # as if it sat idle a while
    replaced = _backend_pid(postgres_engine)  # no error: the ping found it gone
    assert replaced != first
    assert _backend_pid(postgres_engine) == replaced  # and the new one is pooled


def test_a_connection_used_a_moment_ago_is_not_pinged(
    postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _backend_pid(postgres_engine)
    pings: list[object] = []
    monkeypatch.setattr(postgres_engine.dialect, "do_ping", pings.append)
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_S", 3600.0)
    _backend_pid(postgres_engine)
    assert pings == []
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_S", 0.0)
    _backend_pid(postgres_engine)
    assert len(pings) == 1


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")) or 0)


def _terminate(pid: int) -> None:
    """Ends the backend and waits (up to 5 s) until it has ended."""
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    admin.dispose()
