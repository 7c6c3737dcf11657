"""Fresh PostgreSQL schemas for the benchmarks, dropped afterwards.

A benchmark given a PostgreSQL database (`--store-uri postgresql://…/test`) runs each side in a
schema of its own, created empty here and reached through the URI's `search_path`, so that
Modelyard's and MLflow's tables never meet and nothing is left behind in the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError


class PostgresUnavailable(Exception):
    """The database given could not be reached: printed as one line, exit status 1."""


def is_postgres(uri: str) -> bool:
    return make_url(uri).get_backend_name() == "postgresql"


@contextmanager
def fresh_schemas(database_uri: str, *prefixes: str) -> Iterator[list[str]]:
    """One URI per prefix, each on an empty schema `<prefix>_<random>`, all dropped on exit."""
    url = make_url(database_uri)
    names = [f"{prefix}_{uuid.uuid4().hex[:10]}" for prefix in prefixes]
    admin = create_engine(
        url.set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    created: list[str] = []
    try:
        try:
            connection = admin.connect()
        except OperationalError as error:
            raise PostgresUnavailable(
                f"PostgreSQL at {url.render_as_string()} could not be reached"
                f" ({str(error.orig).splitlines()[0]}): start it, or fix --store-uri"
            ) from None
        with connection:
            for name in names:
                connection.execute(text(f'CREATE SCHEMA "{name}"'))
                created.append(name)
        yield [on_schema(url, name) for name in names]
    finally:
        if created:
            with admin.connect() as connection:
                for name in created:
                    connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def on_schema(url: URL, schema: str) -> str:
    """The database's URI with `search_path` set to `schema`: tables are created there."""
    with_path = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return with_path.render_as_string(hide_password=False)


def with_driver(uri: str, driver: str) -> str:
    """`uri` opened with `driver` (e.g. `postgresql+psycopg2`) whatever SQLAlchemy's default."""
    return make_url(uri).set(drivername=driver).render_as_string(hide_password=False)


def server_version(database_uri: str) -> str:
    engine = create_engine(make_url(database_uri).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()
