"""What the versioned registries (data assets, components) ask of their version tables alike:
a table of `(name, version)` rows with an `archived` flag, numbered per name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session


def latest_version_number(session: Session, row_type: Any, name: str) -> int | None:
    """The highest version of `name` not archived (Azure's `@latest`)."""
    latest = session.scalar(
        select(func.max(row_type.version)).where(
            row_type.name == name, row_type.archived.is_(False)
        )
    )
    return None if latest is None else int(latest)


def listed_versions(session: Session, row_type: Any, name: str) -> str:
    """The last ten version numbers of `name`, for a "no such version" message."""
    known = session.scalars(
        select(row_type.version).where(row_type.name == name).order_by(row_type.version)
    ).all()
    return ", ".join(map(str, known[-10:])) or "none"


def version_count(session: Session, row_type: Any, name: str) -> int:
    count = session.scalar(select(func.count()).select_from(row_type).where(row_type.name == name))
    return int(count or 0)
