"""The tracking store on SQLAlchemy 2: SQLite for the embedded workspace, PostgreSQL for servers."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.entities import (
    Experiment,
    Metric,
    Run,
    RunData,
    RunSource,
    RunStatus,
    limits,
    validate_experiment_name,
)
from modelyard.entities.process import ProcessHandle
from modelyard.entities.validation import bounded_error, check_batch, check_pairs, check_process
from modelyard.errors import Conflict, InvalidValue, NotFound
from modelyard.store.sql import schema
from modelyard.store.sql.auth import SqlAuthStore
from modelyard.store.sql.components import SqlComponentStore
from modelyard.store.sql.computes import SqlComputeStore
from modelyard.store.sql.data import SqlDataStore
from modelyard.store.sql.endpoints import SqlEndpointStore
from modelyard.store.sql.engine import IMMEDIATE, make_engine, storage_checked
from modelyard.store.sql.metric_points import insert_metrics
from modelyard.store.sql.models import (
    ExperimentRow,
    LatestMetricRow,
    MetricBlockRow,
    MetricRow,
    ParamRow,
    PropertyRow,
    RunAttemptRow,
    RunInputRow,
    RunRow,
    TagRow,
    new_id,
    utcnow,
)
from modelyard.store.sql.pipeline_drafts import SqlPipelineDraftStore
from modelyard.store.sql.pipelines import SqlPipelineStore
from modelyard.store.sql.published_pipelines import SqlPublishedPipelineStore
from modelyard.store.sql.registry import SqlModelRegistry
from modelyard.store.sql.run_queries import SqlRunQueries
from modelyard.store.sql.schedules import SqlScheduleStore

# Queued: a launched run's process may die before it says Preparing; Starting: the process that
# was launching it may die before it recorded a handle.
_WATCHED_STATUSES = [
    s.value for s in RunStatus if s.is_active or s in (RunStatus.QUEUED, RunStatus.STARTING)
]
_ENDED_STATUSES = [s.value for s in RunStatus if s.is_terminal]
_TRANSITION_ATTEMPTS = 20


class SqlStore(
    SqlAuthStore,
    SqlRunQueries,
    SqlComputeStore,
    SqlModelRegistry,
    SqlEndpointStore,
    SqlDataStore,
    SqlComponentStore,
    SqlPipelineStore,
    SqlScheduleStore,
    SqlPublishedPipelineStore,
    SqlPipelineDraftStore,
):
    """A `TrackingStore` and `AuthStore` over one database; safe for many processes at once."""

    def __init__(self, uri: str, *, busy_timeout_s: float = 60.0, upgrade_hint: str = "") -> None:
        self.uri = uri
        self._engine: Engine = make_engine(uri, busy_timeout_s)
        self._check_reachable_and_current(upgrade_hint or "modelyard db upgrade")

    def _check_reachable_and_current(self, upgrade_hint: str) -> None:
        try:
            schema.check_schema(self._engine, upgrade_hint)
        except BaseException:
            self._engine.dispose()
            raise

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _session(self, write: bool = False) -> Iterator[Session]:
        with storage_checked(self._engine), self._engine.connect() as connection:
            if write:
                connection.execution_options(**{IMMEDIATE: True})
            with connection.begin(), Session(bind=connection) as session:
                yield session
                session.flush()  # ORM changes go in before the transaction commits.

    # Experiments -----------------------------------------------------------------------------

    def get_or_create_experiment(self, name: str) -> Experiment:
        validate_experiment_name(name)
        for _ in range(3):
            try:
                return self.get_experiment(name)
            except NotFound:
                pass
            try:
                with self._session(write=True) as session:
                    row = ExperimentRow(id=new_id(), name=name, created_at=utcnow(), run_counter=0)
                    session.add(row)
                    session.flush()
                    return row.to_entity()
            except IntegrityError:
                continue  # Another process registered it first: read theirs.
        return self.get_experiment(name)

    def get_experiment(self, name: str) -> Experiment:
        with self._session() as session:
            row = session.scalar(select(ExperimentRow).where(ExperimentRow.name == name))
            if row is None:
                raise NotFound(
                    f"experiment {name!r} not found: list experiments with"
                    " `modelyard experiment list`",
                    experiment=name,
                )
            return row.to_entity(self._count_runs(session, row.id))

    def list_experiments(self) -> list[Experiment]:
        with self._session() as session:
            counts = dict(
                session.execute(
                    select(RunRow.experiment_id, func.count()).group_by(RunRow.experiment_id)
                ).all()
            )
            rows = session.scalars(select(ExperimentRow).order_by(ExperimentRow.created_at))
            return [row.to_entity(counts.get(row.id, 0)) for row in rows]

    def delete_experiment(self, name: str) -> list[str]:
        with self._session(write=True) as session:
            row = session.scalar(select(ExperimentRow).where(ExperimentRow.name == name))
            if row is None:
                raise NotFound(f"experiment {name!r} not found: nothing to delete", experiment=name)
            runs = session.execute(
                select(RunRow.id, RunRow.status).where(RunRow.experiment_id == row.id)
            ).all()
            active = [run_id for run_id, status in runs if not RunStatus(status).is_terminal]
            if active:
                raise Conflict(
                    f"experiment {name!r} has {len(active)} unfinished run(s), e.g. {active[0]}:"
                    " cancel them (`modelyard run cancel RUN_ID`) before deleting",
                    experiment=name,
                    runs=active,
                )
            run_ids = [run_id for run_id, _ in runs]
            self._delete_runs_data(session, run_ids)
            session.delete(row)
            return run_ids

    @staticmethod
    def _delete_runs_data(session: Session, run_ids: list[str]) -> None:
        # Explicit deletes: SQLite enforces ON DELETE CASCADE only with the pragma, and a
        # database touched by another tool may not have it on.
        for table in (
            MetricRow,
            MetricBlockRow,
            LatestMetricRow,
            ParamRow,
            TagRow,
            PropertyRow,
            RunAttemptRow,
            RunInputRow,
        ):
            session.query(table).filter(table.run_id.in_(run_ids)).delete()
        session.query(RunRow).filter(RunRow.parent_id.in_(run_ids)).update({"parent_id": None})
        session.query(RunRow).filter(RunRow.id.in_(run_ids)).delete()

    @staticmethod
    def _count_runs(session: Session, experiment_id: str) -> int:
        count = session.scalar(
            select(func.count()).select_from(RunRow).where(RunRow.experiment_id == experiment_id)
        )
        return int(count or 0)

    # Runs ------------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_name: str,
        *,
        user: str,
        display_name: str | None = None,
        source: RunSource | None = None,
        parent_id: str | None = None,
        compute_target: str | None = None,
        status: RunStatus = RunStatus.NOT_STARTED,
    ) -> Run:
        experiment = self.get_or_create_experiment(experiment_name)
        _check_display_name(display_name)
        with self._session(write=True) as session:
            if parent_id is not None:
                self._run_row(session, parent_id)
            number = self._next_run_number(session, experiment.id)
            row = RunRow(
                id=new_id(),
                experiment_id=experiment.id,
                number=number,
                display_name=display_name or f"{experiment.name}_{number}",
                status=status.value,
                parent_id=parent_id,
                compute_target=compute_target,
                user_name=user,
                created_at=utcnow(),
                **RunRow.source_columns(source or RunSource()),
            )
            if status is RunStatus.RUNNING:
                row.started_at = row.heartbeat_at = row.created_at
            session.add(row)
            session.flush()
            return row.to_entity(experiment.name)

    @staticmethod
    def _next_run_number(session: Session, experiment_id: str) -> int:
        # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) first, so two
        # concurrent submits can never read the same counter.
        session.execute(
            update(ExperimentRow)
            .where(ExperimentRow.id == experiment_id)
            .values(run_counter=ExperimentRow.run_counter + 1)
        )
        number = session.scalar(
            select(ExperimentRow.run_counter).where(ExperimentRow.id == experiment_id)
        )
        return int(number or 0)

    def get_run(self, run_id: str) -> Run:
        with self._session() as session:
            return self._to_entity(session, self._run_row(session, run_id))

    def list_runs(
        self,
        experiment_name: str | None = None,
        *,
        statuses: Sequence[RunStatus] | None = None,
        parent_id: str | None = None,
        id_prefix: str | None = None,
        display_name: str | None = None,
        limit: int = 1000,
    ) -> list[Run]:
        query = select(RunRow, ExperimentRow.name).join(
            ExperimentRow, ExperimentRow.id == RunRow.experiment_id
        )
        if experiment_name is not None:
            query = query.where(ExperimentRow.name == experiment_name)
        if statuses:
            query = query.where(RunRow.status.in_([status.value for status in statuses]))
        if parent_id is not None:
            query = query.where(RunRow.parent_id == parent_id)
        if id_prefix is not None:
            query = query.where(RunRow.id.startswith(id_prefix, autoescape=True))
        if display_name is not None:
            query = query.where(RunRow.display_name == display_name)
        query = query.order_by(RunRow.created_at.desc(), RunRow.number.desc()).limit(limit)
        with self._session() as session:
            return [row.to_entity(name) for row, name in session.execute(query).all()]

    def transition_run(self, run_id: str, target: RunStatus, *, error: str | None = None) -> Run:
        """Move a run to `target` if its lifecycle allows it, atomically (compare and set)."""
        error = bounded_error(error)
        for _ in range(_TRANSITION_ATTEMPTS):
            current = self.get_run(run_id)
            if current.status is target and error is None:
                return current
            current.status.check_transition(target, run_id)
            if self._compare_and_set_status(current, target, error):
                return self.get_run(run_id)
        raise Conflict(
            f"run {run_id} kept changing status while moving it to {target.value}: try again",
            run_id=run_id,
        )

    def _compare_and_set_status(self, current: Run, target: RunStatus, error: str | None) -> bool:
        now = utcnow()
        values: dict[str, object] = {"status": target.value}
        if error is not None:
            values["error"] = error
        if target in (RunStatus.RUNNING, RunStatus.PREPARING) and current.started_at is None:
            values["started_at"] = now
        if target.is_active:
            values["heartbeat_at"] = now
        if target.is_terminal:
            values["ended_at"] = now
        if target is RunStatus.QUEUED and current.queued_at is None:
            values["queued_at"] = now
        with self._session(write=True) as session:
            result = session.execute(
                update(RunRow)
                .where(RunRow.id == current.id, RunRow.status == current.status.value)
                .values(**values)
            )
            return bool(getattr(result, "rowcount", 0))

    def record_process(self, run_id: str, host: str, pid: int, pid_started_at: float) -> None:
        check_process(host, pid, pid_started_at)
        with self._session(write=True) as session:
            row = self._run_row(session, run_id)
            row.handle = ProcessHandle(host, pid, pid_started_at).to_string()

    def heartbeat(self, run_id: str) -> Run:
        """Record a sign of life; RunEnded once the run has ended (its process is left over)."""
        with self._session(write=True) as session:
            session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.status.not_in(_ENDED_STATUSES))
                .values(heartbeat_at=utcnow())
            )
        run = self.get_run(run_id)
        run.status.check_accepts_data(run_id, "heartbeats")
        if run.status is RunStatus.NOT_RESPONDING:
            run = self.transition_run(run_id, RunStatus.RUNNING)
        return run

    def check_run_accepts(self, run_id: str, what: str) -> None:
        """NotFound for an unknown run, RunEnded for one that has ended: for writes kept
        outside the database (artifacts), checked before they start."""
        with self._session() as session:
            status = session.scalar(select(RunRow.status).where(RunRow.id == run_id))
        if status is None:
            raise _run_not_found(run_id)
        RunStatus(status).check_accepts_data(run_id, what)

    def list_runs_silent_since(self, moment: datetime) -> list[Run]:
        last_sign_of_life = func.coalesce(RunRow.heartbeat_at, RunRow.started_at, RunRow.created_at)
        query = (
            select(RunRow, ExperimentRow.name)
            .join(ExperimentRow, ExperimentRow.id == RunRow.experiment_id)
            .where(RunRow.status.in_(_WATCHED_STATUSES), last_sign_of_life < moment)
        )
        with self._session() as session:
            return [row.to_entity(name) for row, name in session.execute(query).all()]

    # Logged data -----------------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        check_batch(metrics, params, tags)
        for _ in range(3):
            try:
                with self._session(write=True) as session:
                    experiment_id = self._experiment_of_open_run(
                        session, run_id, _refused_once_ended(metrics, params)
                    )
                    self._insert_params(session, run_id, params or {})
                    self._upsert_tags(session, run_id, tags or {})
                    insert_metrics(session.connection(), run_id, experiment_id, metrics)
                return
            except IntegrityError:
                continue  # A concurrent writer added the same param or tag key: re-check.
        raise Conflict(f"could not log to run {run_id} under contention: try again", run_id=run_id)

    def _insert_params(self, session: Session, run_id: str, params: Mapping[str, str]) -> None:
        if not params:
            return
        existing = self._pairs(session, ParamRow, run_id, list(params))
        for key, value in params.items():
            if key in existing and existing[key] != value:
                raise Conflict(
                    f"param {key!r} of run {run_id} is already {existing[key]!r} and params are"
                    f" immutable: cannot set it to {value!r}; log it under another key",
                    run_id=run_id,
                    key=key,
                )
        new = [
            {"run_id": run_id, "key": k, "value": v} for k, v in params.items() if k not in existing
        ]
        if new:
            session.connection().execute(insert(_table(ParamRow)), new)

    def _upsert_tags(self, session: Session, run_id: str, tags: Mapping[str, str]) -> None:
        if not tags:
            return
        existing = self._pairs(session, TagRow, run_id, list(tags))
        for key, value in tags.items():
            if key in existing:
                session.execute(
                    update(TagRow)
                    .where(TagRow.run_id == run_id, TagRow.key == key)
                    .values(value=value)
                )
            else:
                session.add(TagRow(run_id=run_id, key=key, value=value))

    def add_properties(self, run_id: str, properties: Mapping[str, str]) -> None:
        check_pairs("property", properties, limits.PROPERTY_KEY_MAX, limits.PROPERTY_VALUE_MAX)
        with self._session(write=True) as session:
            self._experiment_of_open_run(session, run_id, "properties")
            existing = self._pairs(session, PropertyRow, run_id, list(properties))
            for key, value in properties.items():
                if key in existing and existing[key] != value:
                    raise Conflict(
                        f"property {key!r} of run {run_id} is already {existing[key]!r}:"
                        " properties are add-only; use a tag for values that change",
                        run_id=run_id,
                        key=key,
                    )
                if key not in existing:
                    session.add(PropertyRow(run_id=run_id, key=key, value=value))

    def get_metric_history(self, run_id: str, name: str | None = None) -> list[Metric]:
        query = select(MetricRow.name, MetricRow.value, MetricRow.step, MetricRow.timestamp).where(
            MetricRow.run_id == run_id
        )
        if name is not None:
            query = query.where(MetricRow.name == name)
        with self._session() as session:
            self._run_row(session, run_id)
            rows = session.execute(query.order_by(MetricRow.name, MetricRow.step, MetricRow.id))
            return [
                Metric(name, math.nan if value is None else value, step, timestamp)
                for name, value, step, timestamp in rows
            ]

    def get_run_data(self, run_id: str) -> RunData:
        with self._session() as session:
            self._run_row(session, run_id)
            # The same "latest" as the runs table's (MLflow's): highest step, then latest time.
            latest = session.execute(
                select(LatestMetricRow.name, LatestMetricRow.value).where(
                    LatestMetricRow.run_id == run_id
                )
            ).all()
            return RunData(
                params=self._pairs(session, ParamRow, run_id),
                tags=self._pairs(session, TagRow, run_id),
                properties=self._pairs(session, PropertyRow, run_id),
                latest_metrics={
                    name: math.nan if value is None else value for name, value in latest
                },
            )

    # Helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _pairs(
        session: Session,
        table: type[ParamRow] | type[TagRow] | type[PropertyRow],
        run_id: str,
        keys: list[str] | None = None,
    ) -> dict[str, str]:
        query = select(table.key, table.value).where(table.run_id == run_id)
        if keys is not None:
            query = query.where(table.key.in_(keys))
        return {key: value for key, value in session.execute(query.order_by(table.key)).all()}

    @staticmethod
    def _experiment_of_open_run(session: Session, run_id: str, refused: str | None) -> str:
        """The run's experiment id; NotFound for an unknown run, and RunEnded for an ended one
        when `refused` names what is being written. PostgreSQL reads the row FOR SHARE, so the
        run cannot end before this transaction commits (concurrent writers still share it);
        SQLite's write transaction holds the whole database already."""
        found = session.execute(
            select(RunRow.experiment_id, RunRow.status)
            .where(RunRow.id == run_id)
            .with_for_update(read=True)
        ).first()
        if found is None:
            raise _run_not_found(run_id)
        experiment_id, status = found
        if refused is not None:
            RunStatus(status).check_accepts_data(run_id, refused)
        return str(experiment_id)

    @staticmethod
    def _run_row(session: Session, run_id: str) -> RunRow:
        row = session.get(RunRow, run_id)
        if row is None:
            raise _run_not_found(run_id)
        return row

    @staticmethod
    def _to_entity(session: Session, row: RunRow) -> Run:
        name = session.scalar(
            select(ExperimentRow.name).where(ExperimentRow.id == row.experiment_id)
        )
        return row.to_entity(name or "")


def _refused_once_ended(metrics: Sequence[Metric], params: Mapping[str, str] | None) -> str | None:
    """What of a batch an ended run refuses. Tags stay editable: they annotate a finished run
    (Azure ML's `run.tag`, MLflow's `set_tag`), they are not the job's output."""
    kinds = [kind for kind, given in (("metrics", metrics), ("params", params)) if given]
    return " or ".join(kinds) or None


def _run_not_found(run_id: str) -> NotFound:
    return NotFound(f"run {run_id!r} not found: list runs with `modelyard run list`", run_id=run_id)


def _table(row_class: type[ParamRow]) -> Table:
    table = row_class.__table__
    assert isinstance(table, Table)
    return table


def _check_display_name(display_name: str | None) -> None:
    if display_name is not None and not (0 < len(display_name) <= limits.RUN_DISPLAY_NAME_MAX):
        raise InvalidValue(
            f"invalid run display name {display_name!r}: use 1–{limits.RUN_DISPLAY_NAME_MAX}"
            " characters",
            display_name=display_name,
        )
