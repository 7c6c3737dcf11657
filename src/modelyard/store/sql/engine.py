"""Engines for the SQL store: SQLite (embedded default) and PostgreSQL (shared server)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from modelyard.errors import InvalidValue, StoreUnavailable
from modelyard.extras import require_extra

# The write transactions of a SqlStore ask for the SQLite write lock up front (BEGIN IMMEDIATE):
# a deferred transaction that later upgrades to a writer can fail at once with "database is
# locked" in WAL mode, without waiting out the busy timeout.
IMMEDIATE = "modelyard_immediate"


def parse_store_uri(uri: str) -> URL:
    try:
        url = make_url(uri)
    except ArgumentError as error:
        raise InvalidValue(
            f"invalid store URI {uri!r}: expected sqlite:///PATH or postgresql://HOST/DB",
            uri=uri,
        ) from error
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InvalidValue(
            f"unsupported store URI {uri!r}: use sqlite:///PATH or postgresql://HOST/DB",
            uri=uri,
        )
    if backend == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(uri: str, busy_timeout_s: float = 60.0) -> Engine:
    url = parse_store_uri(uri)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_s)
    require_extra("postgres", "a workspace on PostgreSQL")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_engine(url: URL, busy_timeout_s: float) -> Engine:
    engine = create_engine(url, connect_args={"timeout": busy_timeout_s})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def reachable(engine: Engine) -> Iterator[None]:
    """Turn "cannot connect" from any driver into one StoreUnavailable line."""
    try:
        yield
    except OperationalError as error:
        raise store_unavailable(error, engine.url) from error


def store_unavailable(error: OperationalError, url: URL) -> StoreUnavailable:
    """The driver's error as one line that says what to check."""
    reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    safe_url = url.render_as_string(hide_password=True)
    return StoreUnavailable(
        f"cannot reach the workspace database {safe_url}: {reason}; check that the database"
        " server is running and the store URI is right",
        uri=safe_url,
    )
