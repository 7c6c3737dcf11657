"""Runs as a table shows them: filtered, sorted and paged by the database (a `SqlStore` mixin).

A run's *latest* value of a metric is the value at its highest step, the last one logged where a
step repeats (MLflow's latest metrics also rank by step first). One index seek on `metrics
(run_id, name, step)` finds it, so sorting or filtering 100,000 runs by a metric needs no extra
table and no extra index on the hottest table; a NaN is stored as NULL and so never passes a
comparison and sorts last.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from sqlalchemy import ColumnElement, Index, ScalarSelect, exists, func, select
from sqlalchemy.orm import Session

from modelyard.entities import Run, RunStatus
from modelyard.errors import InvalidValue, NotFound
from modelyard.store.sql.models import ExperimentRow, MetricRow, RunRow, TagRow

RUN_ORDERS: Final = ("created", "status", "number", "display_name")
METRIC_ORDER_PREFIX: Final = "metric:"
PAGE_SIZE_MAX: Final = 1000
OPERATORS: Final = ("<=", ">=", "!=", "==", "<", ">", "=")
_FILTER_FORM = re.compile(r"\s*(?P<name>[^<>=!]+?)\s*(?P<op><=|>=|!=|==|<|>|=)\s*(?P<value>\S+)\s*")
_IN_CLAUSE_MAX = 500  # bound parameters per IN (...), well under SQLite's limit

# Indexes for the run table's sorts within an experiment and across the workspace (created by
# migration 0003). Declared here, next to the queries they serve, and attached to the `runs`
# table of the ORM metadata so the schema test compares them too.
RUN_QUERY_INDEXES: Final = (
    Index("ix_runs_created_at", RunRow.created_at),
    Index("ix_runs_experiment_id_created_at", RunRow.experiment_id, RunRow.created_at),
    Index("ix_runs_experiment_id_status", RunRow.experiment_id, RunRow.status),
    Index("ix_runs_experiment_id_display_name", RunRow.experiment_id, RunRow.display_name),
)


@dataclass(frozen=True)
class MetricFilter:
    """`name op value` on a run's latest value of a metric, e.g. `accuracy>0.9`."""

    name: str
    op: str
    value: float

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise InvalidValue(
                f"unknown comparison {self.op!r} in a metric filter: use one of"
                f" {', '.join(OPERATORS)}",
                op=self.op,
            )
        if not self.name or not math.isfinite(self.value):
            raise InvalidValue(
                f"invalid metric filter {self}: name a metric and compare it with a finite number",
                filter=str(self),
            )

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value:g}"

    @classmethod
    def parse(cls, text: str) -> MetricFilter:
        """`accuracy>0.9`, `loss <= 0.25`, `epoch=3` (spaces allowed around the operator)."""
        match = _FILTER_FORM.fullmatch(text)
        value = _number(match["value"]) if match else None
        if match is None or value is None:
            raise InvalidValue(
                f"invalid metric filter {text!r}: write NAME OP NUMBER with OP one of"
                f" {', '.join(OPERATORS)}, like 'accuracy>0.9'",
                filter=text,
            )
        return cls(match["name"], match["op"], value)

    def condition(self, latest: ScalarSelect[Any]) -> ColumnElement[bool]:
        comparisons = {
            "<": latest < self.value,
            "<=": latest <= self.value,
            ">": latest > self.value,
            ">=": latest >= self.value,
            "=": latest == self.value,
            "==": latest == self.value,
            "!=": latest != self.value,
        }
        return comparisons[self.op]


def parse_tag_filter(text: str) -> tuple[str, str]:
    """`key=value` → (key, value); the value may be empty or hold '=' itself."""
    key, separator, value = text.partition("=")
    if not separator or not key.strip():
        raise InvalidValue(
            f"invalid tag filter {text!r}: write KEY=VALUE, like 'team=vision'", filter=text
        )
    return key.strip(), value


def check_order(order_by: str) -> None:
    if order_by in RUN_ORDERS:
        return
    if order_by.startswith(METRIC_ORDER_PREFIX) and order_by[len(METRIC_ORDER_PREFIX) :]:
        return
    raise InvalidValue(
        f"cannot sort runs by {order_by!r}: use one of {', '.join(RUN_ORDERS)} or"
        f" {METRIC_ORDER_PREFIX}NAME (a metric's latest value)",
        order_by=order_by,
    )


class RunPage(NamedTuple):
    runs: list[Run]
    total: int  # runs matching the filters, on every page together


class SqlRunQueries:
    """Mixed into `SqlStore`, which provides the sessions."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def query_runs(
        self,
        experiment: str | None = None,
        *,
        statuses: Sequence[RunStatus] = (),
        tags: Mapping[str, str] | None = None,
        metric_filters: Sequence[MetricFilter] = (),
        order_by: str = "created",
        descending: bool = True,
        offset: int = 0,
        limit: int = 50,
    ) -> RunPage:
        """One page of the runs that match every filter, and how many match in all."""
        check_order(order_by)
        _check_page(offset, limit)
        with self._session() as session:
            conditions = _conditions(session, experiment, statuses, tags or {}, metric_filters)
            total = session.scalar(select(func.count()).select_from(RunRow).where(*conditions))
            query = (
                select(RunRow, ExperimentRow.name)
                .join(ExperimentRow, ExperimentRow.id == RunRow.experiment_id)
                .where(*conditions)
                .order_by(*_ordering(order_by, descending))
                .offset(offset)
                .limit(limit)
            )
            runs = [row.to_entity(name) for row, name in session.execute(query).all()]
            return RunPage(runs, int(total or 0))

    def metric_names(self, run_ids: Sequence[str]) -> list[str]:
        """The names of the metrics any of these runs logged, sorted."""
        names: set[str] = set()
        with self._session() as session:
            for chunk in _chunks(run_ids):
                query = select(MetricRow.name).where(MetricRow.run_id.in_(chunk)).distinct()
                names.update(session.scalars(query))
        return sorted(names)

    def latest_metric_values(
        self, run_ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, float]]:
        """{run id: {metric name: latest value}}; a name a run never logged (or NaN) is left out."""
        found: dict[str, dict[str, float]] = {run_id: {} for run_id in run_ids}
        if not run_ids or not names:
            return found
        columns = [latest_value(name).label(f"m{index}") for index, name in enumerate(names)]
        with self._session() as session:
            for chunk in _chunks(run_ids):
                query = select(RunRow.id, *columns).where(RunRow.id.in_(chunk))
                for run_id, *values in session.execute(query).all():
                    found[run_id] = {
                        name: value
                        for name, value in zip(names, values, strict=True)
                        if value is not None  # never logged, or a NaN (stored as NULL)
                    }
        return found

    def metric_log_position(self, run_id: str) -> tuple[int, int]:
        """(points logged, last point's id): changes whenever the run logs a metric."""
        query = select(func.count(), func.max(MetricRow.id)).where(MetricRow.run_id == run_id)
        with self._session() as session:
            count, last = session.execute(query).one()
            return int(count or 0), int(last or 0)


def latest_value(name: str) -> ScalarSelect[Any]:
    """The run's value of metric `name` at its highest step (correlated to `runs`)."""
    return (
        select(MetricRow.value)
        .where(MetricRow.run_id == RunRow.id, MetricRow.name == name)
        .order_by(MetricRow.step.desc(), MetricRow.id.desc())
        .limit(1)
        .correlate(RunRow)
        .scalar_subquery()
    )


def _conditions(
    session: Session,
    experiment: str | None,
    statuses: Sequence[RunStatus],
    tags: Mapping[str, str],
    metric_filters: Sequence[MetricFilter],
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if experiment is not None:
        conditions.append(RunRow.experiment_id == _experiment_id(session, experiment))
    if statuses:
        conditions.append(RunRow.status.in_([RunStatus(status).value for status in statuses]))
    conditions += [_has_tag(key, value) for key, value in tags.items()]
    conditions += [rule.condition(latest_value(rule.name)) for rule in metric_filters]
    return conditions


def _experiment_id(session: Session, name: str) -> str:
    found = session.scalar(select(ExperimentRow.id).where(ExperimentRow.name == name))
    if found is None:
        raise NotFound(
            f"experiment {name!r} not found: list experiments with `modelyard experiment list`",
            experiment=name,
        )
    return found


def _has_tag(key: str, value: str) -> ColumnElement[bool]:
    return exists().where(TagRow.run_id == RunRow.id, TagRow.key == key, TagRow.value == value)


def _ordering(order_by: str, descending: bool) -> list[Any]:
    """The sort key, then newest first (then id) so that pages never overlap or skip a run."""
    if order_by.startswith(METRIC_ORDER_PREFIX):
        key = latest_value(order_by[len(METRIC_ORDER_PREFIX) :])
        primary: Any = (key.desc() if descending else key.asc()).nulls_last()
    else:
        # No NULLS LAST on these NOT NULL columns: PostgreSQL would then not walk the index.
        column = {
            "created": RunRow.created_at,
            "status": RunRow.status,
            "number": RunRow.number,
            "display_name": RunRow.display_name,
        }[order_by]
        primary = column.desc() if descending else column.asc()
    if order_by == "created":
        return [primary, RunRow.id.desc() if descending else RunRow.id.asc()]
    return [primary, RunRow.created_at.desc(), RunRow.id.desc()]


def _check_page(offset: int, limit: int) -> None:
    if offset < 0 or not 1 <= limit <= PAGE_SIZE_MAX:
        raise InvalidValue(
            f"invalid page (offset {offset}, limit {limit}): offset is 0 or more and limit"
            f" 1 to {PAGE_SIZE_MAX}",
            offset=offset,
            limit=limit,
        )


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _IN_CLAUSE_MAX):
        yield items[start : start + _IN_CLAUSE_MAX]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
