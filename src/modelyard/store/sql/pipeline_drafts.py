"""Pipeline drafts in the SQL store (the drafts part of `SqlStore`).

A save compares and swaps the revision in one UPDATE (`WHERE revision = the one the editor
opened`): of two editors saving the same revision one wins and the other is told to reload,
on SQLite and PostgreSQL alike, with no lock held between reading and writing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import AbstractContextManager

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.entities.pipeline_drafts import (
    DraftSummary,
    PipelineDraft,
    check_draft,
    check_layout,
)
from modelyard.errors import AlreadyExists, Conflict, NotFound
from modelyard.store.sql.models import PipelineDraftRow, utcnow


class SqlPipelineDraftStore:
    """Mixed into `SqlStore`, which provides the sessions."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def create_pipeline_draft(
        self, name: str, definition: str, layout: Mapping[str, object], user: str
    ) -> PipelineDraft:
        check_draft(name, definition)
        now = utcnow()
        row = PipelineDraftRow(
            name=name,
            definition=definition,
            layout=json.dumps(check_layout(layout)),
            revision=1,
            created_by=user,
            created_at=now,
            updated_by=user,
            updated_at=now,
        )
        try:
            with self._session(write=True) as session:
                found = session.get(PipelineDraftRow, name)
                if found is not None:
                    raise _taken(found.to_entity())
                session.add(row)
                session.flush()
                return row.to_entity()
        except IntegrityError:  # created by another process in between
            raise _taken(self.get_pipeline_draft(name)) from None

    def update_pipeline_draft(
        self,
        name: str,
        definition: str,
        layout: Mapping[str, object] | None,
        revision: int,
        user: str,
    ) -> PipelineDraft:
        """Save over `revision` (the one the editor opened); `layout` None keeps the saved one."""
        check_draft(name, definition)
        changes: dict[str, object] = {
            "definition": definition,
            "revision": revision + 1,
            "updated_by": user,
            "updated_at": utcnow(),
        }
        if layout is not None:
            changes["layout"] = json.dumps(check_layout(layout))
        with self._session(write=True) as session:
            saved = session.execute(
                update(PipelineDraftRow)
                .where(PipelineDraftRow.name == name, PipelineDraftRow.revision == revision)
                .values(**changes)
                .execution_options(synchronize_session=False)
            )
            if saved.rowcount != 1:  # type: ignore[attr-defined]
                raise _stale(_row(session, name).to_entity(), revision)
            return _row(session, name).to_entity()

    def get_pipeline_draft(self, name: str) -> PipelineDraft:
        with self._session() as session:
            return _row(session, name).to_entity()

    def list_pipeline_drafts(self) -> list[DraftSummary]:
        with self._session() as session:
            rows = session.scalars(select(PipelineDraftRow).order_by(PipelineDraftRow.name))
            return [row.to_entity().summary for row in rows]

    def delete_pipeline_draft(self, name: str) -> None:
        with self._session(write=True) as session:
            _row(session, name)
            session.execute(delete(PipelineDraftRow).where(PipelineDraftRow.name == name))


def _row(session: Session, name: str) -> PipelineDraftRow:
    row = session.get(PipelineDraftRow, name)
    if row is None:
        raise NotFound(
            f"pipeline draft {name!r} not found: see `modelyard pipeline draft list`", name=name
        )
    return row


def _taken(found: PipelineDraft) -> AlreadyExists:
    return AlreadyExists(
        f"pipeline draft {found.name!r} already exists (revision {found.revision}): save over"
        f" it with its revision, choose another name, or delete it with `modelyard pipeline"
        f" draft delete {found.name}`",
        name=found.name,
        revision=found.revision,
    )


def _stale(found: PipelineDraft, opened: int) -> Conflict:
    return Conflict(
        f"pipeline draft {found.name!r} is at revision {found.revision}, not revision {opened}"
        f" that this save was made from (saved since by {found.summary.updated_by}): reload"
        " the draft and make the change again",
        name=found.name,
        revision=found.revision,
        opened=opened,
    )
