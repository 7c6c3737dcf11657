"""Schedules in the SQL store (the `ScheduleStore` part of `SqlStore`).

A fire is claimed before its run is created, in one transaction that compares and swaps the
schedule's `next_fire_at` (or a folder's `watched` hash) and inserts the (schedule, fire time)
row whose primary key refuses a second one: two loops racing on one database fire once. A loop
that dies between the claim and the run loses that fire (at most once, never twice); the fire
row then stays without a run or error.

A schedule uploaded through a server names its job's archive by SHA-256 (`job_sha256`) in a
content-keyed blob store (`services/schedule_jobs.py`): one created again with the same bytes
finds the blob there, which a deletion or the reaper may be about to remove. So a creation
checks its blob (and writes it again if gone) and a removal checks that no row names it, each
under one lock, in the transaction that writes the row or reads the rows: whichever is second
sees the other's work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.entities.schedules import Schedule, ScheduleFire
from modelyard.errors import AlreadyExists, NotFound
from modelyard.store.sql.engine import serialise_writes
from modelyard.store.sql.models import ScheduleFireRow, ScheduleRow, utcnow
from modelyard.store.sql.unreferenced import remove_unreferenced

_ERROR_MAX_CHARS = 4000
_JOBS_LOCK_KEY: Final = 0x6D79_736A  # "mysj": the uploaded jobs' blobs against their rows


class SqlScheduleStore:
    """Mixed into `SqlStore`, which provides the sessions."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    @contextmanager
    def _jobs_write(self) -> Iterator[Session]:
        with self._session(write=True) as session:
            serialise_writes(session, _JOBS_LOCK_KEY)
            yield session

    def create_schedule(
        self, schedule: Schedule, check_job: Callable[[], None] = lambda: None
    ) -> Schedule:
        """`check_job` runs under the jobs' lock, before the row is written: it makes sure the
        uploaded job's blob is (still) there (`collect_unnamed_jobs` removes under that lock)."""
        row = ScheduleRow(
            name=schedule.name,
            job_file=schedule.job_file,
            trigger=json.dumps(schedule.trigger.to_dict()),
            catch_up=schedule.catch_up.value,
            enabled=schedule.enabled,
            created_by=schedule.created_by,
            created_at=schedule.created_at,
            next_fire_at=schedule.next_fire_at,
            watched=schedule.watched,
            job_sha256=schedule.job_sha256,
        )
        try:
            with self._jobs_write() as session:
                if session.get(ScheduleRow, schedule.name) is not None:
                    raise _taken(schedule.name)
                check_job()
                session.add(row)
                session.flush()
                return row.to_entity()
        except IntegrityError:  # created by another process in between
            raise _taken(schedule.name) from None

    def refuse_taken_schedule_name(self, name: str) -> None:
        """AlreadyExists if a schedule has that name (`create_schedule` checks it again)."""
        with self._session() as session:
            if session.get(ScheduleRow, name) is not None:
                raise _taken(name)

    def get_schedule(self, name: str) -> Schedule:
        with self._session() as session:
            return _row(session, name).to_entity()

    def list_schedules(self) -> list[Schedule]:
        with self._session() as session:
            rows = session.scalars(select(ScheduleRow).order_by(ScheduleRow.name))
            return [row.to_entity() for row in rows]

    def set_schedule_enabled(
        self, name: str, enabled: bool, next_fire_at: datetime | None, watched: str | None
    ) -> Schedule:
        """Enabling sets the next fire afresh (from now: fires missed while disabled are not
        owed) and a folder's baseline hash."""
        with self._session(write=True) as session:
            row = _row(session, name)
            row.enabled, row.next_fire_at, row.watched = enabled, next_fire_at, watched
            return row.to_entity()

    def delete_schedule(self, name: str) -> None:
        with self._session(write=True) as session:
            _row(session, name)
            session.execute(delete(ScheduleFireRow).where(ScheduleFireRow.schedule == name))
            session.execute(delete(ScheduleRow).where(ScheduleRow.name == name))

    def collect_unnamed_jobs(self, shas: Iterable[str], remove: Callable[[str], None]) -> list[str]:
        """Call `remove` for each of `shas` that no schedule names, under the jobs' lock (a
        creation checks its blob under it too); the SHA-256s it was called for."""
        candidates = sorted(set(shas))
        if not candidates:
            return []
        with self._jobs_write() as session:
            return remove_unreferenced(session, ScheduleRow.job_sha256, candidates, remove)

    def claim_fire(
        self,
        seen: Schedule,
        fire_time: datetime | None,
        next_fire_at: datetime | None,
        watched: str | None,
    ) -> bool:
        """Move the schedule on from what `seen` read to `next_fire_at`/`watched` and, with a
        `fire_time`, record that fire; False (nothing changed) when another pass moved it first."""
        try:
            with self._session(write=True) as session:
                changes: dict[str, object] = {"next_fire_at": next_fire_at, "watched": watched}
                if fire_time is not None:
                    changes["last_fired_at"] = fire_time
                moved = session.execute(
                    update(ScheduleRow)
                    .where(
                        ScheduleRow.name == seen.name,
                        ScheduleRow.enabled.is_(True),
                        _same(ScheduleRow.next_fire_at, seen.next_fire_at),
                        _same(ScheduleRow.watched, seen.watched),
                    )
                    .values(**changes)
                    .execution_options(synchronize_session=False)
                )
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    return False
                if fire_time is not None:
                    session.add(
                        ScheduleFireRow(schedule=seen.name, fire_time=fire_time, fired_at=utcnow())
                    )
                return True
        except IntegrityError:  # that time already fired
            return False

    def record_fire_outcome(
        self, name: str, fire_time: datetime, run_id: str | None, error: str | None
    ) -> None:
        """The run a claimed fire created, or why it could not (also kept on the schedule)."""
        error = None if error is None else error[:_ERROR_MAX_CHARS]
        with self._session(write=True) as session:
            session.execute(
                update(ScheduleFireRow)
                .where(ScheduleFireRow.schedule == name, ScheduleFireRow.fire_time == fire_time)
                .values(run_id=run_id, error=error)
            )
            session.execute(
                update(ScheduleRow).where(ScheduleRow.name == name).values(last_error=error)
            )

    def list_schedule_fires(self, name: str, limit: int = 20) -> list[ScheduleFire]:
        """Newest first."""
        with self._session() as session:
            _row(session, name)
            rows = session.scalars(
                select(ScheduleFireRow)
                .where(ScheduleFireRow.schedule == name)
                .order_by(ScheduleFireRow.fire_time.desc())
                .limit(limit)
            )
            return [row.to_entity() for row in rows]


def _same(column: Any, value: object) -> ColumnElement[bool]:
    same: ColumnElement[bool] = column.is_(None) if value is None else column == value
    return same


def _row(session: Session, name: str) -> ScheduleRow:
    row = session.get(ScheduleRow, name)
    if row is None:
        raise NotFound(f"schedule {name!r} not found: see `modelyard schedule list`", schedule=name)
    return row


def _taken(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"schedule {name!r} already exists: choose another name, or delete it with"
        f" `modelyard schedule delete {name}`",
        schedule=name,
    )
