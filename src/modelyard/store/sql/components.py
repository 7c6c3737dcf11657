"""Registered components in the SQL store (the `ComponentStore` part of `SqlStore`).

Every write holds the components lock for its transaction (SQLite's write lock, PostgreSQL's
advisory lock): two registrations of one name get consecutive versions, and a registration
looks for a version with the same content and adds one in a single serialised step, so the
same content sent twice at once makes one version.
"""

from __future__ import annotations

import difflib
import json
from contextlib import AbstractContextManager

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.entities.components import (
    Component,
    ComponentReference,
    ComponentSpec,
    ComponentVersion,
)
from modelyard.errors import AlreadyExists, NotFound
from modelyard.store.sql.engine import serialise_writes
from modelyard.store.sql.models import ComponentRow, ComponentVersionRow, utcnow
from modelyard.store.sql.versions import latest_version_number, listed_versions, version_count

_COMPONENTS_LOCK_KEY = 0x6D79_636D  # "mycm"


class SqlComponentStore:
    """Mixed into `SqlStore`, which provides the sessions."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def create_component_version(
        self, spec: ComponentSpec, code_hash: str, created_by: str
    ) -> tuple[ComponentVersion, bool]:
        """A new version of `spec.name` (the one `spec.version` asks for, else the next), or
        the version already holding this content (and False)."""
        spec = spec.check()
        content_hash = spec.content_hash(code_hash)
        with self._session(write=True) as session:
            serialise_writes(session, _COMPONENTS_LOCK_KEY)
            component = _component_row_for_write(session, spec.name)
            same = _same_content(session, spec, content_hash)
            if same is not None:
                return same.to_entity(), False
            number = spec.version or component.next_version
            component.next_version = max(component.next_version, number + 1)
            component.updated_at = utcnow()
            row = ComponentVersionRow(
                name=spec.name,
                version=number,
                definition=json.dumps(spec.definition(), sort_keys=True),
                code_hash=code_hash,
                content_hash=content_hash,
                created_at=component.updated_at,
                created_by=created_by,
                archived=False,
            )
            session.add(row)
            session.flush()
            return row.to_entity(), True

    def resolve_component_version(self, reference: ComponentReference) -> ComponentVersion:
        with self._session() as session:
            number = reference.version
            if number is None:
                number = latest_version_number(session, ComponentVersionRow, reference.name)
                if number is None:
                    _component_row(session, reference.name)
                    raise NotFound(
                        f"component {reference.name!r} has no version that is not archived:"
                        f" name one ({reference.name}:VERSION), as `modelyard component list"
                        " --include-archived` lists them",
                        name=reference.name,
                    )
            return _version_row_of(session, reference.name, number).to_entity()

    def list_components(self) -> list[Component]:
        with self._session() as session:
            rows = session.scalars(select(ComponentRow).order_by(ComponentRow.name)).all()
            return [_component_entity(session, row) for row in rows]

    def list_component_versions(
        self, name: str, include_archived: bool = False
    ) -> list[ComponentVersion]:
        """Newest first."""
        with self._session() as session:
            _component_row(session, name)
            query = select(ComponentVersionRow).where(ComponentVersionRow.name == name)
            if not include_archived:
                query = query.where(ComponentVersionRow.archived.is_(False))
            rows = session.scalars(query.order_by(ComponentVersionRow.version.desc())).all()
            return [row.to_entity() for row in rows]

    def set_component_version_archived(
        self, name: str, version: int, archived: bool
    ) -> ComponentVersion:
        with self._session(write=True) as session:
            serialise_writes(session, _COMPONENTS_LOCK_KEY)
            row = _version_row_of(session, name, version)
            row.archived = archived
            _component_row(session, name).updated_at = utcnow()
            session.flush()
            return row.to_entity()


def _component_row_for_write(session: Session, name: str) -> ComponentRow:
    row = session.get(ComponentRow, name)
    if row is None:
        now = utcnow()
        row = ComponentRow(name=name, created_at=now, updated_at=now, next_version=1)
        session.add(row)
        session.flush()
    return row


def _same_content(
    session: Session, spec: ComponentSpec, content_hash: str
) -> ComponentVersionRow | None:
    """The version this registration is already: the one asked for (refused when it holds
    other content), else the newest not archived with the same content."""
    if spec.version is not None:
        row = session.get(ComponentVersionRow, (spec.name, spec.version))
        if row is not None and row.content_hash != content_hash:
            raise AlreadyExists(
                f"component {spec.name}:{spec.version} is registered already with other"
                " content: versions never change; remove 'version' from the file (the next"
                " number is taken) or raise it",
                name=spec.name,
                version=spec.version,
            )
        return row
    return session.scalars(
        select(ComponentVersionRow)
        .where(
            ComponentVersionRow.name == spec.name,
            ComponentVersionRow.content_hash == content_hash,
            ComponentVersionRow.archived.is_(False),
        )
        .order_by(ComponentVersionRow.version.desc())
        .limit(1)
    ).first()


def _component_entity(session: Session, row: ComponentRow) -> Component:
    return Component(
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        latest_version=latest_version_number(session, ComponentVersionRow, row.name),
        version_count=version_count(session, ComponentVersionRow, row.name),
    )


def _component_row(session: Session, name: str) -> ComponentRow:
    row = session.get(ComponentRow, name)
    if row is None:
        known = session.scalars(select(ComponentRow.name)).all()
        close = difflib.get_close_matches(name, known, n=1)
        hint = (
            f"did you mean {close[0]!r}?" if close else "list them with `modelyard component list`"
        )
        raise NotFound(
            f"component {name!r} is not registered: {hint} (register one with `modelyard"
            " component create -f component.yml`)",
            name=name,
        )
    return row


def _version_row_of(session: Session, name: str, version: int) -> ComponentVersionRow:
    row = session.get(ComponentVersionRow, (name, version))
    if row is None:
        _component_row(session, name)
        listed = listed_versions(session, ComponentVersionRow, name)
        raise NotFound(
            f"component {name!r} has no version {version}: its versions are {listed}",
            name=name,
            version=version,
        )
    return row
