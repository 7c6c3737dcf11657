"""Engines for the SQL store: SQLite (embedded default) and PostgreSQL (shared server)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DataError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session

from modelyard.errors import InvalidValue, StorageError, StoreUnavailable
from modelyard.extras import require_extra

# The write transactions of a SqlStore ask for the SQLite write lock up front (BEGIN IMMEDIATE):
# a deferred transaction that later upgrades to a writer can fail at once with "database is
# locked" in WAL mode, without waiting out the busy timeout.
IMMEDIATE = "modelyard_immediate"

# A pooled PostgreSQL connection is pinged before use only when it has sat unused this long:
# a round trip per checkout (two per logged batch: the token's, the batch's) buys nothing for
# a connection that answered a moment ago, and a server lost since then fails that one use
# and invalidates the pool, as it would between the ping and the query.
PING_AFTER_IDLE_S = 1.0
_CHECKED_IN_AT = "modelyard_checked_in_at"


def serialise_writes(session: Session, key: int) -> None:
    """Hold PostgreSQL's transaction-level advisory lock `key` for the rest of the session's
    write transaction; on SQLite that transaction's BEGIN IMMEDIATE serialises it already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


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
    engine = create_engine(url, pool_size=5, max_overflow=5)
    _ping_connections_left_idle(engine)
    return engine


def _ping_connections_left_idle(engine: Engine) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections idle at least PING_AFTER_IDLE_S."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _note_last_use(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_CHECKED_IN_AT, 0.0) < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool drops this connection and checks out another (a new one if need be).
            raise DisconnectionError(f"the pooled connection is gone: {error}") from error


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


# What the drivers say when the disk refuses a write, and what to do about it.
_STORAGE_REASONS = {
    "database or disk is full": "the disk is full: free space there, or move the workspace",
    "no space left on device": "the disk is full: free space there, or move the workspace",
    "could not extend file": "the database server's disk is full: free space on it",
    "disk quota exceeded": "the disk quota is used up: free space there, or raise the quota",
    "readonly database": "the database file or its folder is read-only: make it writable, or"
    " use a workspace on a writable disk",
    "disk i/o error": "the disk failed the write (full, read-only or failing): check it with"
    " `df` and the system log",
}


# psycopg's words for a text with "\x00", which PostgreSQL's text type cannot hold (SQLite can).
_NUL_REFUSAL = "cannot contain NUL"


@contextmanager
def reachable(engine: Engine) -> Iterator[None]:
    """Turn "cannot connect" from any driver into one StoreUnavailable line."""
    try:
        yield
    except OperationalError as error:
        raise storage_error(error, engine.url) or store_unavailable(error, engine.url) from error


@contextmanager
def storage_checked(engine: Engine) -> Iterator[None]:
    """A write the disk refused, as one StorageError line, and a NUL character PostgreSQL
    refused, as one InvalidValue line; other errors pass unchanged."""
    try:
        yield
    except OperationalError as error:
        refusal = storage_error(error, engine.url)
        if refusal is None:
            raise
        raise refusal from error
    except DataError as error:
        if _NUL_REFUSAL not in str(error.orig):
            raise
        raise InvalidValue(
            "a text sent holds a NUL character (\\x00), which PostgreSQL cannot store or look up:"
            " remove it from the names, keys, values or messages",
        ) from error


def storage_error(error: OperationalError, url: URL) -> StorageError | None:
    reason = _first_line(error).lower()
    advice = next((text for phrase, text in _STORAGE_REASONS.items() if phrase in reason), None)
    if advice is None and "unable to open database file" in reason and _read_only_folder(url):
        # SQLite in WAL mode must create its -wal and -shm files beside the database.
        advice = _STORAGE_REASONS["readonly database"]
    if advice is None:
        return None
    safe_url = url.render_as_string(hide_password=True)
    return StorageError(
        f"cannot write the workspace database {safe_url}: {advice}; the last change was rolled"
        " back, nothing was half-written",
        uri=safe_url,
    )


def _read_only_folder(url: URL) -> bool:
    if url.get_backend_name() != "sqlite" or not url.database:
        return False
    folder = Path(url.database).parent
    return folder.is_dir() and not os.access(folder, os.W_OK)


def store_unavailable(error: OperationalError, url: URL) -> StoreUnavailable:
    """The driver's error as one line that says what to check."""
    safe_url = url.render_as_string(hide_password=True)
    return StoreUnavailable(
        f"cannot reach the workspace database {safe_url}: {_first_line(error)}; check that the"
        " database server is running and the store URI is right",
        uri=safe_url,
    )


def _first_line(error: OperationalError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else str(error)
