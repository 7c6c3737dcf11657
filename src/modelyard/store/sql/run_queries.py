"""Runs as a table shows them: filtered, sorted and paged by the database (a `SqlStore` mixin).

A run's *latest* value of a metric is its point at the highest step, then the latest timestamp,
then the last logged (MLflow's rule, with a final tie-break). `log_batch` keeps it in
`latest_metrics`, so sorting or filtering 100,000 runs by a metric reads one row per run there,
in the order of its `(name, value)` index, instead of ranking each run's history. A NaN is
stored as NULL and so never passes a comparison and sorts last, with the runs that never logged
the metric.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Final

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

from modelyard.entities import Run
from modelyard.entities.metric_series import DEFAULT_MAX_POINTS, MetricSeries, MetricSeriesRead
from modelyard.entities.run_query import MetricFilter, RunPage, RunQuery
from modelyard.errors import NotFound
from modelyard.store.sql.metric_series import read_all_series
from modelyard.store.sql.models import ExperimentRow, LatestMetricRow, ParamRow, RunRow, TagRow

_IN_CLAUSE_MAX = 500  # bound parameters per IN (...), well under SQLite's limit
# (column, descending): an ordering that can be read backwards too.
_SortKey = tuple[Any, bool]
_NEWEST_FIRST: Final[list[_SortKey]] = [(RunRow.created_at, True), (RunRow.id, True)]
# Up to this many matching runs, a metric filter lists them from its index; beyond, each run
# walked in order is checked (see `_Selection.conditions`).
_FEW_MATCHES = 2_000
# From this offset on, a page sorted by a metric is found by counting in the metric's index.
_SKIP_FROM = 1_000
# Entries read before a deep page's first, to find how many of them share its value.
_SEEK_WINDOW = 100


def _condition(
    rule: MetricFilter, latest: SQLColumnExpression[float | None]
) -> ColumnElement[bool]:
    """The rule as SQL on a latest value (a NaN, stored as NULL, passes no comparison)."""
    comparisons = {
        "<": latest < rule.value,
        "<=": latest <= rule.value,
        ">": latest > rule.value,
        ">=": latest >= rule.value,
        "=": latest == rule.value,
        "==": latest == rule.value,
        "!=": latest != rule.value,
    }
    return comparisons[rule.op]


class SqlRunQueries:
    """Mixed into `SqlStore`, which provides the sessions and `get_run`."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def get_run(self, run_id: str) -> Run:
        raise NotImplementedError

    def query_runs(self, query: RunQuery) -> RunPage:
        """One page of the runs that match every filter, how many match in all, and the latest
        values of the metrics a table of them shows (`RunQuery.metric_columns`)."""
        runs, total = self._page_of_runs(query)
        run_ids = [run.id for run in runs]
        columns = query.metric_columns(self.metric_names(run_ids))
        metrics = self.latest_metric_values(run_ids, columns)
        params = self._key_values_of(ParamRow, run_ids)
        tags = self._key_values_of(TagRow, run_ids)
        return RunPage(runs, total, columns, metrics, params, tags)

    def _page_of_runs(self, query: RunQuery) -> tuple[list[Run], int]:
        with self._session() as session:
            experiment_id = (
                None if query.experiment is None else _experiment_id(session, query.experiment)
            )
            selection = _Selection(
                experiment_id,
                tuple(status.value for status in query.statuses),
                dict(query.tags),
                tuple(query.metric_filters),
                query.parent_id,
            )
            total = selection.count(session)
            if query.offset >= total:
                return [], total
            # Few matches: gather them by the metric index; many: check each run on the way.
            probe_each_run = total > _FEW_MATCHES
            if query.sort_metric is not None:
                pages = _pages_by_metric(
                    selection, query.sort_metric, query.descending, total, probe_each_run
                )
            else:
                conditions = selection.conditions(probe_each_run=probe_each_run)
                order = _column_order(query.order_by, query.descending)
                pages = _Pages(total, _Part(_runs(conditions), order))
            rows = pages.page(session, query.offset, query.limit)
            return [row.to_entity(name) for row, name in rows], total

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

    def _key_values_of(
        self, table: type[ParamRow] | type[TagRow], run_ids: Sequence[str]
    ) -> dict[str, dict[str, str]]:
        """{run id: {key: value}} of a page's runs' params or tags: a table's param and tag
        columns read them from the page, so no run needs a second request."""
        found: dict[str, dict[str, str]] = {run_id: {} for run_id in run_ids}
        with self._session() as session:
            for chunk in _chunks(run_ids):
                query = select(table.run_id, table.key, table.value).where(table.run_id.in_(chunk))
                for run_id, key, value in session.execute(query):
                    found[run_id][key] = value
        return found

    def metric_series(
        self, run_id: str, names: Sequence[str] = (), max_points: int = DEFAULT_MAX_POINTS
    ) -> list[MetricSeries]:
        """The run's metrics (only `names`, if given) as chart series, by name, each thinned
        to `max_points` by the database (see `metric_series.py`)."""
        with self._session() as session:
            return read_all_series(session, run_id, names, max_points)

    def read_metric_series(
        self,
        run_id: str,
        names: Sequence[str] = (),
        max_points: int = DEFAULT_MAX_POINTS,
        known_version: str | None = None,
    ) -> MetricSeriesRead:
        """The run's series thinned to `max_points`, or none if `known_version` is current.

        The version is the count of points logged, so polling a quiet run costs one small
        query. It is read before the points: a point logged in between is sent now and again
        next time, never missed."""
        self.get_run(run_id)  # NotFound for an unknown run
        version = str(self.metric_points_logged(run_id))
        if version == known_version:
            return MetricSeriesRead(version, changed=False)
        return MetricSeriesRead(version, True, self.metric_series(run_id, names, max_points))

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
    parent_id: str | None = None

    @property
    def filters_runs(self) -> bool:
        """Whether a condition on the runs themselves (not only on metric values) applies."""
        return bool(self.statuses or self.tags or self.parent_id is not None)

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
        if self.parent_id is not None:
            conditions.append(RunRow.parent_id == self.parent_id)
        conditions += [_has_tag(key, value) for key, value in self.tags.items()]
        for rule in self.metric_filters:
            if probe_each_run:
                conditions.append(exists().where(*_passes(rule, RunRow.id)))
            else:
                conditions.append(RunRow.id.in_(self._runs_passing(rule)))
        return conditions

    def count(self, session: Session, *, with_value_of: str | None = None) -> int:
        """How many runs match (and have a value of metric `with_value_of`, if given). Metric
        conditions alone are counted in the metrics' index without visiting the runs: a range
        of an index rather than a lookup per run when 50,000 match."""
        ranges = [self._runs_passing(rule) for rule in self.metric_filters]
        if with_value_of is not None:
            ranges.append(self._runs_whose_latest(with_value_of, _is_a_number))
        if ranges and not self.filters_runs:
            first, *others = ranges
            run_id = first.selected_columns[0]
            query = first.where(*(run_id.in_(other) for other in others)).subquery()
            return int(session.scalar(select(func.count()).select_from(query)) or 0)
        conditions = self.conditions(probe_each_run=False)
        if with_value_of is not None:
            conditions.append(RunRow.id.in_(ranges[-1]))
        return int(session.scalar(select(func.count()).select_from(RunRow).where(*conditions)) or 0)

    def _runs_passing(self, rule: MetricFilter) -> Select[str]:
        return self._runs_whose_latest(rule.name, partial(_condition, rule))

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
    return [latest.run_id == run_id, latest.name == rule.name, _condition(rule, latest.value)]


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
        left from there (the runs before it of equal value); None past the part's end.

        The entries just before the page's first come in the same walk of the index: those of
        equal value among them are the offset left, so the entries ahead of that value need
        counting (a second walk of up to the whole index) only when all of them are equal."""
        descending = self.descending != backwards
        values = select(self.value).where(*self.entries)
        in_order = self.value.desc() if descending else self.value.asc()
        start = max(0, offset - _SEEK_WINDOW)
        window = session.scalars(
            values.order_by(in_order).offset(start).limit(offset - start + 1)
        ).all()
        if len(window) <= offset - start:
            return None
        first = window[-1]
        from_first = self.value <= first if descending else self.value >= first
        equal_before = len(window) - 1
        while equal_before and window[equal_before - 1] == first:
            equal_before -= 1
        if equal_before or start == 0:  # a value before the page's first, or the part's start
            return [from_first], offset - start - equal_before
        ahead = self.value > first if descending else self.value < first
        skipped = session.scalar(select(func.count()).select_from(values.where(ahead).subquery()))
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
        # Read backwards, two parts cost a count of the first one too (see `_read`): as much
        # as walking most of it again, so only a page much nearer the end is read from there.
        nearer_end_by = 1 if self.second is None else 2
        if offset <= nearer_end_by * (self.total - offset - limit):
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
    entries += [_condition(rule, latest.value) for rule in on_sorted]
    valued_selection = replace(selection, metric_filters=others_filters)
    joined = _runs(valued_selection.conditions(probe_each_run=probe_each_run)).join(
        latest, and_(latest.run_id == RunRow.id, *entries)
    )
    only_entries = not (selection.filters_runs or others_filters)
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


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _IN_CLAUSE_MAX):
        yield items[start : start + _IN_CLAUSE_MAX]
