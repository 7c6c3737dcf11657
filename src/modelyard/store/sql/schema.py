"""Schema versions: Alembic migrations shipped in the package, applied by `modelyard db upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from modelyard.errors import SchemaOutOfDate
from modelyard.store.sql.engine import reachable

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def current_revision(engine: Engine) -> str | None:
    with reachable(engine), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with reachable(engine):
        command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(_alembic_config(engine), revision)


def check_schema(engine: Engine, upgrade_hint: str) -> None:
    """Refuse to work on a schema older (or newer) than this code."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None:
        problem = "has no Modelyard schema yet"
    elif _is_known(current):
        problem = f"has schema revision {current}, older than this Modelyard's {head}"
    else:
        problem = f"has schema revision {current}, unknown to this Modelyard (needs {head})"
    raise SchemaOutOfDate(
        f"the workspace database {problem}: run `{upgrade_hint}`",
        current=current,
        head=head,
    )


def _is_known(revision: str) -> bool:
    script = ScriptDirectory.from_config(_alembic_config())
    return any(rev.revision == revision for rev in script.walk_revisions())
