"""Compute targets, the scheduler's queue and leases in the SQL store (the `ComputeStore` part
of `SqlStore`).

A scheduling pass reads the queue and applies its decisions in ONE write transaction, which is
serialised across processes (SQLite: the write lock taken by BEGIN IMMEDIATE; PostgreSQL: a
transaction-level advisory lock), so two passes at once never admit more runs than nodes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.entities import Run, RunStatus
from modelyard.entities.compute import (
    LOCAL,
    ComputeRequest,
    ComputeTarget,
    ProvisioningState,
)
from modelyard.entities.records import RunAttempt
from modelyard.entities.scheduling import SchedulingPlan, SchedulingState
from modelyard.errors import AlreadyExists, ComputeErrored, Conflict, InvalidTransition, NotFound
from modelyard.store.sql.engine import serialise_writes
from modelyard.store.sql.models import (
    ComputeRow,
    ExperimentRow,
    LeaseRow,
    RunAttemptRow,
    RunRow,
    utcnow,
)

# Any number: the key of PostgreSQL's advisory lock held by a scheduling pass.
_SCHEDULING_LOCK_KEY = 0x6D79_7363  # "mysc"
_HOLDING = [status.value for status in RunStatus if status.holds_node]
_MAX_ERRORS = 20
_ERROR_MAX_CHARS = 2000


class SqlComputeStore:
    """Mixed into `SqlStore`, which provides the sessions."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    # Computes --------------------------------------------------------------------------------

    def create_compute(self, request: ComputeRequest) -> ComputeTarget:
        """A new compute, Creating. A name held by a Failed compute answers ComputeErrored."""
        request = request.check()
        try:
            with self._session(write=True) as session:
                existing = session.get(ComputeRow, request.name)
                if existing is not None:
                    raise _name_taken(existing.to_entity())
                row = ComputeRow(
                    name=request.name,
                    type=request.type.value,
                    size=request.size,
                    priority=request.priority.value,
                    min_nodes=request.min_nodes,
                    max_nodes=request.max_nodes,
                    idle_seconds_before_scaledown=request.idle_seconds_before_scaledown,
                    address=request.address,
                    description=request.description,
                    state=ProvisioningState.CREATING.value,
                    errors="[]",
                    created_at=utcnow(),
                )
                session.add(row)
                session.flush()
                return row.to_entity()
        except IntegrityError:  # created by another process meanwhile
            raise _name_taken(self.get_compute(request.name)) from None

    def get_compute(self, name: str) -> ComputeTarget:
        with self._session() as session:
            return self._compute(session, name)

    def list_computes(self) -> list[ComputeTarget]:
        with self._session() as session:
            return self._computes(session)

    def set_compute_state(
        self, name: str, state: ProvisioningState, errors: Iterable[str] = ()
    ) -> ComputeTarget:
        """Move a compute to `state` if its provisioning allows it, adding `errors`."""
        _refuse_built_in(name, "change")
        with self._session(write=True) as session:
            row = session.get(ComputeRow, name)
            if row is None:
                raise _compute_not_found(name)
            current = ProvisioningState(row.state)
            if current is not state:
                current.check_transition(state, name)
            kept = [*json.loads(row.errors or "[]"), *(e[:_ERROR_MAX_CHARS] for e in errors)]
            row.state, row.errors = state.value, json.dumps(kept[-_MAX_ERRORS:])
            session.flush()
            return row.to_entity()

    def delete_compute(self, name: str) -> None:
        _refuse_built_in(name, "delete")
        with self._session(write=True) as session:
            if session.get(ComputeRow, name) is None:
                raise _compute_not_found(name)
            waiting = session.scalars(
                select(RunRow.id).where(
                    RunRow.compute_target == name,
                    RunRow.status.in_([*_HOLDING, RunStatus.QUEUED.value]),
                )
            ).first()
            if waiting is not None:
                raise Conflict(
                    f"compute {name} still has queued or running jobs (e.g. run {waiting}):"
                    f" cancel them, or `modelyard compute delete {name} --force`",
                    compute=name,
                )
            session.execute(delete(ComputeRow).where(ComputeRow.name == name))

    def _compute(self, session: Session, name: str) -> ComputeTarget:
        row = session.get(ComputeRow, name)
        if row is None:
            raise _compute_not_found(name)
        return row.to_entity()

    def _computes(self, session: Session) -> list[ComputeTarget]:
        # The built-in local first, then in the order they were created.
        order = (ComputeRow.name != LOCAL, ComputeRow.created_at, ComputeRow.name)
        return [row.to_entity() for row in session.scalars(select(ComputeRow).order_by(*order))]

    # The queue -------------------------------------------------------------------------------

    def schedule(
        self, decide: Callable[[SchedulingState], SchedulingPlan]
    ) -> tuple[SchedulingPlan, list[Run]]:
        """Read the queue, let `decide` plan, apply the plan: one serialised transaction.
        Returns the plan and the runs it admitted (now Starting), for their launch."""
        with self._session(write=True) as session:
            serialise_writes(session, _SCHEDULING_LOCK_KEY)
            state = SchedulingState(
                computes={c.name: c for c in self._computes(session)},
                queued=self._runs_where(session, [RunStatus.QUEUED.value], queue_order=True),
                holding=self._runs_where(session, _HOLDING, queue_order=True),
            )
            plan = decide(state)
            admitted = self._apply(session, state, plan)
        return plan, admitted

    def _runs_where(self, session: Session, statuses: list[str], queue_order: bool) -> list[Run]:
        query = (
            select(RunRow, ExperimentRow.name)
            .join(ExperimentRow, ExperimentRow.id == RunRow.experiment_id)
            .where(RunRow.status.in_(statuses), RunRow.compute_target.is_not(None))
        )
        if queue_order:
            query = query.order_by(RunRow.queued_at, RunRow.created_at, RunRow.id)
        return [row.to_entity(name) for row, name in session.execute(query).all()]

    def _apply(self, session: Session, state: SchedulingState, plan: SchedulingPlan) -> list[Run]:
        now = utcnow()
        queued = {run.id: run for run in state.queued}
        holding = {run.id: run for run in state.holding}
        for run_id in plan.admit:
            session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.status == RunStatus.QUEUED.value)
                .values(status=RunStatus.STARTING.value, heartbeat_at=now, status_detail=None)
            )
        for run_id, reason in plan.waiting.items():
            if queued.get(run_id) is not None and queued[run_id].status_detail != reason:
                session.execute(
                    update(RunRow).where(RunRow.id == run_id).values(status_detail=reason)
                )
        for run_id, cause in plan.preempt.items():
            run = holding[run_id]
            run.status.check_transition(RunStatus.PREEMPTED, run_id)
            session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.status == run.status.value)
                .values(status=RunStatus.PREEMPTED.value, status_detail=cause)
            )
        for run_id, reason in plan.fail.items():
            session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.status == RunStatus.QUEUED.value)
                .values(status=RunStatus.FAILED.value, error=reason, ended_at=now)
            )
        session.flush()
        return [
            row.to_entity(name)
            for row, name in session.execute(
                select(RunRow, ExperimentRow.name)
                .join(ExperimentRow, ExperimentRow.id == RunRow.experiment_id)
                .where(RunRow.id.in_(plan.admit))
            ).all()
        ]

    def record_handle(self, run_id: str, handle: str | None) -> None:
        with self._session(write=True) as session:
            session.execute(update(RunRow).where(RunRow.id == run_id).values(handle=handle))

    def preempt_run(self, run_id: str, cause: str) -> Run:
        """Mark a node-holding run Preempted: its supervisor stops the job and requeues it."""
        with self._session(write=True) as session:
            row = session.get(RunRow, run_id)
            if row is None:
                raise NotFound(f"run {run_id} not found", run_id=run_id)
            RunStatus(row.status).check_transition(RunStatus.PREEMPTED, run_id)
            row.status, row.status_detail = RunStatus.PREEMPTED.value, cause
            session.flush()
        return self.get_run(run_id)

    def requeue_run(self, run_id: str, outcome: RunStatus, cause: str) -> Run:
        """Back to Queued, keeping its place: the attempt that ended is recorded with `outcome`
        (Preempted, or Starting for a launch that was lost) and its cause. The run must still
        be `outcome`, checked in this transaction: a requeue that comes late (the reaper and
        the job's own supervisor both requeuing) must not requeue the next attempt."""
        with self._session(write=True) as session:
            row = session.get(RunRow, run_id, with_for_update=True)
            if row is None:
                raise NotFound(f"run {run_id} not found", run_id=run_id)
            RunStatus(row.status).check_transition(RunStatus.QUEUED, run_id)
            if row.status != outcome.value:
                raise InvalidTransition(
                    f"run {run_id} is {row.status}, not {outcome.value}: it was requeued or"
                    " moved on already; nothing to do",
                    run_id=run_id,
                    current=row.status,
                    target=RunStatus.QUEUED.value,
                )
            _record_attempt(session, row, outcome, cause)
            row.status_detail = f"requeued after attempt {row.attempt - 1}: {cause}"[:2000]
            row.queued_at = row.queued_at or utcnow()
            session.flush()
        return self.get_run(run_id)

    def resume_run(self, run_id: str, cause: str) -> Run:
        """An ended run back in the queue, behind what waits there, as its next attempt: the
        ended attempt is recorded with its status, and the run's end and error are cleared.
        Only a Failed or Canceled run (`RunStatus.is_resumable`), checked in this transaction."""
        with self._session(write=True) as session:
            row = session.get(RunRow, run_id, with_for_update=True)
            if row is None:
                raise NotFound(f"run {run_id} not found", run_id=run_id)
            status = RunStatus(row.status)
            if not status.is_resumable:
                raise InvalidTransition(
                    f"run {run_id} is {status.value}: only a Failed or Canceled run can be resumed",
                    run_id=run_id,
                    current=status.value,
                    target=RunStatus.QUEUED.value,
                )
            _record_attempt(session, row, status, cause)
            row.status_detail = f"resumed after attempt {row.attempt - 1}: {cause}"[:2000]
            row.ended_at = None
            row.error = None
            row.queued_at = utcnow()
            session.flush()
        return self.get_run(run_id)

    def list_attempts(self, run_id: str) -> list[RunAttempt]:
        with self._session() as session:
            rows = session.scalars(
                select(RunAttemptRow)
                .where(RunAttemptRow.run_id == run_id)
                .order_by(RunAttemptRow.attempt)
            ).all()
            return [row.to_entity() for row in rows]

    def get_run(self, run_id: str) -> Run:
        raise NotImplementedError  # SqlStore's

    # Leases ----------------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take or renew the lease `name` for `holder` unless another holds it unexpired."""
        now = utcnow()
        expires = now + timedelta(seconds=ttl_s)
        try:
            with self._session(write=True) as session:
                row = session.get(LeaseRow, name, with_for_update=True)
                if row is None:
                    session.add(LeaseRow(name=name, holder=holder, expires_at=expires))
                    return True
                if row.holder != holder and row.expires_at > now:
                    return False
                row.holder, row.expires_at = holder, expires
                return True
        except IntegrityError:  # another process took it first
            return False


def _record_attempt(session: Session, row: RunRow, outcome: RunStatus, cause: str) -> None:
    """The run's current attempt ended (`outcome`, `cause`); the row becomes the next one,
    Queued and not launched."""
    session.execute(
        insert(RunAttemptRow).values(
            run_id=row.id,
            attempt=row.attempt,
            started_at=row.started_at,
            ended_at=utcnow(),
            outcome=outcome.value,
            cause=cause[:_ERROR_MAX_CHARS],
        )
    )
    row.status = RunStatus.QUEUED.value
    row.attempt += 1
    row.handle = None


def _refuse_built_in(name: str, action: str) -> None:
    if name == LOCAL:
        raise Conflict(
            f"compute {LOCAL!r} is built into every workspace: it cannot {action}; create a"
            " named compute to set a size or a limit",
            compute=name,
        )


def _compute_not_found(name: str) -> NotFound:
    return NotFound(
        f"compute {name!r} not found: list computes with `modelyard compute list`, or create"
        f" it with `modelyard compute create {name} --type local`",
        compute=name,
    )


def _name_taken(existing: ComputeTarget) -> AlreadyExists:
    if existing.state is ProvisioningState.FAILED:
        reason = existing.errors[-1] if existing.errors else "provisioning failed"
        return ComputeErrored(
            f"compute {existing.name} already exists in a failed state ({reason}): use a"
            f" different name, or `modelyard compute delete {existing.name}` and retry",
            compute=existing.name,
        )
    return AlreadyExists(
        f"compute {existing.name} already exists ({existing.state.value}): use a different"
        f" name, or `modelyard compute delete {existing.name}` first",
        compute=existing.name,
    )
