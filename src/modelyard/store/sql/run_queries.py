"""Runs as a table shows them: filtered, sorted and paged by the database (a `SqlStore` mixin).

A run's *latest* value of a metric is its point at the highest step, then the latest timestamp,
then the last logged (MLflow's rule, with a final tie-break). `log_batch` keeps it in
`latest_metrics`, so sorting or filtering 100,000 runs by a metric reads one row per run there,
in the order of its `(name, value)` index, instead of ranking each run's history. A NaN is
stored as NULL and so never passes a comparison and sorts last, with the runs that never logged
the metric.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    SQLColumnExpression,
    and_,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Session, aliased

from modelyard.entities import Run, RunStatus
from modelyard.errors import InvalidValue, NotFound
from modelyard.store.sql.metric_series import DEFAULT_MAX_POINTS, MetricSeries, read_all_series
from modelyard.store.sql.models import ExperimentRow, LatestMetricRow, RunRow, TagRow

RUN_ORDERS: Final = ("created", "status", "number", "display_name")
METRIC_ORDER_PREFIX: Final = "metric:"
PAGE_SIZE_MAX: Final = 1000
OPERATORS: Final = ("<=", ">=", "!=", "==", "<", ">", "=")
_FILTER_FORM = re.compile(r"\s*(?P<name>[^<>=!]+?)\s*(?P<op><=|>=|!=|==|<|>|=)\s*(?P<value>\S+)\s*")
_IN_CLAUSE_MAX = 500  # bound parameters per IN (...), well under SQLite's limit
# (column, descending): an ordering that can be read backwards too.
_SortKey = tuple[Any, bool]
_NEWEST_FIRST: Final[list[_SortKey]] = [(RunRow.created_at, True), (RunRow.id, True)]
# Up to this many matching runs, a metric filter lists them from its index; beyond, each run
# walked in order is checked (see `_Selection.conditions`).
_FEW_MATCHES = 2_000
# From this offset on, a page sorted by a metric is found by counting in the metric's index.
_SKIP_FROM = 1_000


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

    def condition(self, latest: SQLColumnExpression[float | None]) -> ColumnElement[bool]:
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
            experiment_id = None if experiment is None else _experiment_id(session, experiment)
            selection = _Selection(
                experiment_id,
                tuple(RunStatus(status).value for status in statuses),
                dict(tags or {}),
                tuple(metric_filters),
            )
            total = selection.count(session)
            if offset >= total:
                return RunPage([], total)
            # Few matches: gather them by the metric index; many: check each run on the way.
            probe_each_run = total > _FEW_MATCHES
            if order_by.startswith(METRIC_ORDER_PREFIX):
                metric = order_by[len(METRIC_ORDER_PREFIX) :]
                pages = _pages_by_metric(selection, metric, descending, total, probe_each_run)
            else:
                conditions = selection.conditions(probe_each_run=probe_each_run)
                pages = _Pages(total, _Part(_runs(conditions), _column_order(order_by, descending)))
            rows = pages.page(session, offset, limit)
            return RunPage([row.to_entity(name) for row, name in rows], total)

    def metric_names(self, run_ids: Sequence[str]) -> list[str]:
        """The names of the metrics any of these runs logged, sorted."""
        names: set[str] = set()
        with self._session() as session:
            for chunk in _chunks(run_ids):
                query = (
                    select(LatestMetricRow.name).where(LatestMetricRow.run_id.in_(chunk)).distinct()
                )
                names.update(session.scalars(query))
        return sorted(names)

    def latest_metric_values(
        self, run_ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, float]]:
        """{run id: {metric name: latest value}}; a name a run never logged (or NaN) is left out."""
        found: dict[str, dict[str, float]] = {run_id: {} for run_id in run_ids}
        wanted = set(names)
        if not run_ids or not wanted:
            return found
        with self._session() as session:
            for chunk in _chunks(run_ids):
                # The names are picked here, not in SQL: given both lists, SQLite would walk
                # every run's value of those metrics in the (name, value) index, not the few
                # runs' rows by primary key.
                query = select(
                    LatestMetricRow.run_id, LatestMetricRow.name, LatestMetricRow.value
                ).where(LatestMetricRow.run_id.in_(chunk))
                for run_id, name, value in session.execute(query):
                    if name in wanted and value is not None:  # None: a NaN, stored as NULL
                        found[run_id][name] = value
        return found

    def metric_series(
        self, run_id: str, names: Sequence[str] = (), max_points: int = DEFAULT_MAX_POINTS
    ) -> list[MetricSeries]:
        """The run's metrics (only `names`, if given) as chart series, by name, each thinned
        to `max_points` by the database (see `metric_series.py`)."""
        with self._session() as session:
            return read_all_series(session, run_id, names, max_points)

    def metric_points_logged(self, run_id: str) -> int:
        """How many points the run logged, of all metrics: grows with every one. Summed from
        the counts `log_batch` keeps per metric, without counting the points themselves."""
        query = select(func.sum(LatestMetricRow.points)).where(LatestMetricRow.run_id == run_id)
        with self._session() as session:
            return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class _Selection:
    """The filters of one runs query, the experiment already found."""

    experiment_id: str | None
    statuses: tuple[str, ...]
    tags: dict[str, str]
    metric_filters: tuple[MetricFilter, ...]

    def conditions(self, *, probe_each_run: bool) -> list[ColumnElement[bool]]:
        """Conditions on `runs`. A metric filter is either a lookup of each run's latest value
        (`probe_each_run`: cheap while walking runs in order when many match) or the list of
        the runs that pass, from a range of the metric's index (cheap when few do). SQLite
        follows the form it is given; PostgreSQL plans both alike."""
        conditions: list[ColumnElement[bool]] = []
        if self.experiment_id is not None:
            conditions.append(RunRow.experiment_id == self.experiment_id)
        if self.statuses:
            conditions.append(RunRow.status.in_(self.statuses))
        conditions += [_has_tag(key, value) for key, value in self.tags.items()]
        for rule in self.metric_filters:
            if probe_each_run:
                conditions.append(exists().where(*_passes(rule, RunRow.id)))
            else:
                conditions.append(RunRow.id.in_(self._runs_whose_latest(rule.name, rule.condition)))
        return conditions

    def count(self, session: Session, *, with_value_of: str | None = None) -> int:
        """How many runs match (and have a value of metric `with_value_of`, if given). Metric
        conditions alone are counted in the metrics' index without visiting the runs: a range
        of an index rather than a lookup per run when 50,000 match."""
        ranges = [
            self._runs_whose_latest(rule.name, rule.condition) for rule in self.metric_filters
        ]
        if with_value_of is not None:
            ranges.append(self._runs_whose_latest(with_value_of, _is_a_number))
        if ranges and not self.statuses and not self.tags:
            first, *others = ranges
            run_id = first.selected_columns[0]
            query = first.where(*(run_id.in_(other) for other in others)).subquery()
            return int(session.scalar(select(func.count()).select_from(query)) or 0)
        conditions = self.conditions(probe_each_run=False)
        if with_value_of is not None:
            conditions.append(RunRow.id.in_(ranges[-1]))
        return int(session.scalar(select(func.count()).select_from(RunRow).where(*conditions)) or 0)

    def _runs_whose_latest(
        self, name: str, test: Callable[[SQLColumnExpression[float | None]], ColumnElement[bool]]
    ) -> Select[str]:
        """The ids of the runs whose latest value of metric `name` passes `test`."""
        latest = aliased(LatestMetricRow)
        query = select(latest.run_id).where(latest.name == name, test(latest.value))
        if self.experiment_id is not None:  # lets the database use the experiment's index
            query = query.where(latest.experiment_id == self.experiment_id)
        return query


def _is_a_number(value: SQLColumnExpression[float | None]) -> ColumnElement[bool]:
    return value.is_not(None)  # a NaN is stored as NULL


def _passes(rule: MetricFilter, run_id: SQLColumnExpression[str]) -> list[ColumnElement[bool]]:
    """The run's latest value of the rule's metric passes it (a NaN, stored as NULL, never)."""
    latest = aliased(LatestMetricRow)
    return [latest.run_id == run_id, latest.name == rule.name, rule.condition(latest.value)]


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


def _runs(conditions: Sequence[ColumnElement[bool]]) -> Select[RunRow, str]:
    return (
        select(RunRow, ExperimentRow.name)
        .join(ExperimentRow, ExperimentRow.id == RunRow.experiment_id)
        .where(*conditions)
    )


def _column_order(order_by: str, descending: bool) -> list[_SortKey]:
    """The sort key, then newest first (then id) so that pages never overlap or skip a run."""
    column = {
        "created": RunRow.created_at,
        "status": RunRow.status,
        "number": RunRow.number,
        "display_name": RunRow.display_name,
    }[order_by]
    if order_by == "created":
        return [(column, descending), (RunRow.id, descending)]
    return [(column, descending), *_NEWEST_FIRST]


@dataclass(frozen=True)
class _Part:
    """Runs in one order; a page may span two parts, one after the other."""

    query: Select[RunRow, str]
    order: Sequence[_SortKey]
    skip: _IndexSkip | None = None

    def rows(
        self, session: Session, offset: int, limit: int, *, backwards: bool
    ) -> list[Row[RunRow, str]]:
        # No NULLS LAST: the sort keys are never NULL here, and PostgreSQL would then not walk
        # the index.
        order = [
            column.desc() if descending != backwards else column.asc()
            for column, descending in self.order
        ]
        start: list[ColumnElement[bool]] = []
        if self.skip is not None and offset >= _SKIP_FROM:
            found = self.skip.seek(session, offset, backwards=backwards)
            if found is None:
                return []
            start, offset = found
        query = self.query.where(*start).order_by(*order).offset(offset).limit(limit)
        return list(session.execute(query))


@dataclass(frozen=True)
class _IndexSkip:
    """Skips most of a deep offset inside a metric's index, for a part whose runs are exactly
    the index entries in `entries` (no condition on the runs but their experiment, which the
    index holds too). Offset paging otherwise reads a run for every run it skips: 200 ms for
    the middle page of 100,000 runs, where counting index entries takes a few.
    """

    value: SQLColumnExpression[float | None]
    entries: list[ColumnElement[bool]]
    descending: bool

    def seek(
        self, session: Session, offset: int, *, backwards: bool
    ) -> tuple[list[ColumnElement[bool]], int] | None:
        """A condition that starts the part at the value the page starts at, and the offset
        left from there (the runs before it of equal value); None past the part's end."""
        descending = self.descending != backwards
        values = select(self.value).where(*self.entries)
        in_order = self.value.desc() if descending else self.value.asc()
        first = session.scalar(values.order_by(in_order).offset(offset).limit(1))
        if first is None:
            return None
        ahead = self.value > first if descending else self.value < first
        skipped = session.scalar(select(func.count()).select_from(values.where(ahead).subquery()))
        from_first = self.value <= first if descending else self.value >= first
        return [from_first], offset - int(skipped or 0)


@dataclass(frozen=True)
class _Pages:
    """Pages of `first`'s runs followed by `second`'s, `total` in all.

    Offset paging walks every run it skips, so a page nearer the end is read backwards from
    the end: the last page then costs what the first one does.
    """

    total: int
    first: _Part
    second: _Part | None = None
    first_size: Callable[[Session], int] | None = None  # counted only when a page needs it

    def page(self, session: Session, offset: int, limit: int) -> list[Row[RunRow, str]]:
        if offset <= self.total - offset - limit:
            return self._read(session, offset, limit, backwards=False)
        count = min(limit, self.total - offset)
        start = self.total - offset - count
        return self._read(session, start, count, backwards=True)[::-1]

    def _read(
        self, session: Session, offset: int, limit: int, *, backwards: bool
    ) -> list[Row[RunRow, str]]:
        if self.second is None or self.first_size is None:
            return self.first.rows(session, offset, limit, backwards=backwards)
        head, tail = (self.second, self.first) if backwards else (self.first, self.second)
        # Read backwards, `head` is the part walked by runs (when sorting by a metric: the runs
        # without a value), where reading past the end walks every run to find none: count it.
        head_size = self.total - self.first_size(session) if backwards else None
        past_head = head_size is not None and offset >= head_size
        rows = [] if past_head else head.rows(session, offset, limit, backwards=backwards)
        if len(rows) == limit:
            return rows
        if head_size is None:  # known unless the page starts past the end of `head`
            head_size = offset + len(rows) if rows or offset == 0 else self.first_size(session)
        rest = tail.rows(
            session, max(0, offset - head_size), limit - len(rows), backwards=backwards
        )
        return rows + rest


def _pages_by_metric(
    selection: _Selection, name: str, descending: bool, total: int, probe_each_run: bool
) -> _Pages:
    """The runs with a value of the metric by that value, then the others (never logged, or
    NaN) newest first; equal values newest first too.

    Two parts where one LEFT JOIN sorted NULLS LAST would do: the join makes the database sort
    every run to find one page, while each part walks an index in order, `(experiment, name,
    value)` of `latest_metrics` then `created_at` of `runs`, and stops once the page is full.
    """
    # A filter on the sorted metric becomes the range of its index that is walked, and leaves
    # no run without a value.
    on_sorted = [rule for rule in selection.metric_filters if rule.name == name]
    others_filters = tuple(rule for rule in selection.metric_filters if rule.name != name)
    latest = aliased(LatestMetricRow)
    entries = _value_range(latest, name, selection.experiment_id)
    entries += [rule.condition(latest.value) for rule in on_sorted]
    valued_selection = replace(selection, metric_filters=others_filters)
    joined = _runs(valued_selection.conditions(probe_each_run=probe_each_run)).join(
        latest, and_(latest.run_id == RunRow.id, *entries)
    )
    only_entries = not (selection.statuses or selection.tags or others_filters)
    skip = _IndexSkip(latest.value, entries, descending) if only_entries else None
    valued = _Part(joined, [(latest.value, descending), *_NEWEST_FIRST], skip)
    if on_sorted:
        return _Pages(total, valued)
    # Checked run by run through the primary key: the experiment's index here would let
    # PostgreSQL, before it has statistics (a fresh migration), join every run to every value.
    latest_of_run = aliased(LatestMetricRow)
    never = ~exists().where(
        latest_of_run.run_id == RunRow.id, *_value_range(latest_of_run, name, experiment_id=None)
    )
    others = _Part(
        _runs(selection.conditions(probe_each_run=probe_each_run)).where(never), _NEWEST_FIRST
    )
    return _Pages(total, valued, others, partial(selection.count, with_value_of=name))


def _value_range(
    latest: type[LatestMetricRow], name: str, experiment_id: str | None
) -> list[ColumnElement[bool]]:
    """The metric's values in the workspace or the experiment: a range of one index."""
    conditions = [latest.name == name, latest.value.is_not(None)]
    if experiment_id is not None:
        conditions.append(latest.experiment_id == experiment_id)
    return conditions


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
