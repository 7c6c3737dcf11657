"""Alembic environment: migrations run on the engine Modelyard hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from modelyard.store.sql.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
