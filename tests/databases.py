"""The test databases: real SQLite, and real PostgreSQL at MODELYARD_TEST_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/test), each test in a schema of its own.
A module of its own, not conftest's: test modules import it by name, and each test folder may
have a conftest of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", "postgresql"]


def postgres_url() -> str:
    return os.environ.get("MODELYARD_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


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
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
