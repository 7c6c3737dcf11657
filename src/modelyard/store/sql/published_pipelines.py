"""Published pipelines in the SQL store (the published-pipeline part of `SqlStore`).

Every write takes one lock for its transaction (SQLite: BEGIN IMMEDIATE's write lock;
PostgreSQL: a transaction-level advisory lock), so two publications of one name get
consecutive versions and a name's first two publications create it once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.entities.published_pipelines import PublishedPipeline, PublishedPipelineVersion
from modelyard.errors import NotFound
from modelyard.store.sql.engine import serialise_writes
from modelyard.store.sql.models import (
    PublishedPipelineRow,
    PublishedPipelineVersionRow,
    utcnow,
)

_PUBLISHED_LOCK_KEY = 0x6D79_7070  # "mypp"


class SqlPublishedPipelineStore:
    """Mixed into `SqlStore`, which provides the sessions."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    @contextmanager
    def _published_write(self) -> Iterator[Session]:
        with self._session(write=True) as session:
            serialise_writes(session, _PUBLISHED_LOCK_KEY)
            yield session

    def create_published_version(self, draft: PublishedPipelineVersion) -> PublishedPipelineVersion:
        """`draft` recorded as its name's next version (the name created with its first); the
        draft's own version number is ignored."""
        with self._published_write() as session:
            owner = session.get(PublishedPipelineRow, draft.name)
            if owner is None:
                owner = PublishedPipelineRow(
                    name=draft.name,
                    description=draft.description,
                    latest_version=0,
                    created_by=draft.created_by,
                    created_at=utcnow(),
                )
                session.add(owner)
                session.flush()
            owner.latest_version += 1
            if draft.description:
                owner.description = draft.description
            row = _version_row(draft, owner.latest_version)
            session.add(row)
            session.flush()
            return row.to_entity()

    def get_published_pipeline(self, name: str) -> PublishedPipeline:
        with self._session() as session:
            return _pipeline_row(session, name).to_entity()

    def list_published_pipelines(self) -> list[PublishedPipeline]:
        with self._session() as session:
            rows = session.scalars(select(PublishedPipelineRow).order_by(PublishedPipelineRow.name))
            return [row.to_entity() for row in rows]

    def get_published_version(self, name: str, version: int) -> PublishedPipelineVersion:
        with self._session() as session:
            return _version_of(session, name, version).to_entity()

    def list_published_versions(self, name: str) -> list[PublishedPipelineVersion]:
        """Newest first."""
        with self._session() as session:
            _pipeline_row(session, name)
            rows = session.scalars(
                select(PublishedPipelineVersionRow)
                .where(PublishedPipelineVersionRow.name == name)
                .order_by(PublishedPipelineVersionRow.version.desc())
            )
            return [row.to_entity() for row in rows]

    def set_published_default(self, name: str, version: int) -> PublishedPipeline:
        with self._published_write() as session:
            _version_of(session, name, version)
            row = _pipeline_row(session, name)
            row.default_version = version
            return row.to_entity()

    def set_published_enabled(
        self, name: str, version: int, enabled: bool
    ) -> PublishedPipelineVersion:
        with self._published_write() as session:
            row = _version_of(session, name, version)
            row.enabled = enabled
            return row.to_entity()


def _version_row(draft: PublishedPipelineVersion, version: int) -> PublishedPipelineVersionRow:
    return PublishedPipelineVersionRow(
        name=draft.name,
        version=version,
        description=draft.description,
        pipeline=draft.pipeline,
        parameters=json.dumps([parameter.to_dict() for parameter in draft.parameters]),
        folder=draft.folder,
        enabled=draft.enabled,
        created_by=draft.created_by,
        created_at=draft.created_at,
        source_run=draft.source_run,
    )


def _pipeline_row(session: Session, name: str) -> PublishedPipelineRow:
    row = session.get(PublishedPipelineRow, name)
    if row is None:
        raise NotFound(
            f"published pipeline {name!r} not found: see `modelyard pipeline published list`,"
            " or publish one with `modelyard pipeline publish -f pipeline.yml --name NAME`",
            published_pipeline=name,
        )
    return row


def _version_of(session: Session, name: str, version: int) -> PublishedPipelineVersionRow:
    _pipeline_row(session, name)
    row = session.get(PublishedPipelineVersionRow, (name, version))
    if row is None:
        raise NotFound(
            f"published pipeline {name!r} has no version {version}: see its versions with"
            f" `modelyard pipeline published show {name}`",
            published_pipeline=name,
            version=version,
        )
    return row
