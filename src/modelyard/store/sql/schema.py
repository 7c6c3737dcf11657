"""Schema versions: Alembic migrations shipped in the package, applied by `modelyard db upgrade`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import Engine, inspect, text

from modelyard.errors import SchemaOutOfDate
from modelyard.store.sql.engine import reachable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS: Final = Path(__file__).parent / "migrations"
# Alembic is imported only to migrate: it is a quarter of a second of every command's start,
# and checking a schema needs only the two revision numbers.
_VERSION_TABLE: Final = "alembic_version"
_NUMBERED_MIGRATION: Final = re.compile(r"(\d{4})_\w+\.py")


def _alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration's revision: each is named after its file's number (0001_…), one
    after the other, which tests hold Alembic's own reading of the scripts to."""
    return max(shipped_revisions())


def shipped_revisions() -> list[str]:
    found = (_NUMBERED_MIGRATION.fullmatch(path.name) for path in _versions().iterdir())
    revisions = sorted(match.group(1) for match in found if match)
    assert revisions, "the package ships no migrations"
    return revisions


def _versions() -> Path:
    return MIGRATIONS / "versions"


def current_revision(engine: Engine) -> str | None:
    with reachable(engine), engine.connect() as connection:
        if not inspect(connection).has_table(_VERSION_TABLE):
            return None
        revision = connection.scalar(text(f"SELECT version_num FROM {_VERSION_TABLE}"))
        return None if revision is None else str(revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with reachable(engine):
        command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

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
    return revision in shipped_revisions()
