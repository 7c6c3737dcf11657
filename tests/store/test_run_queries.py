"""Sorting and filtering runs by a metric's latest value, read from `latest_metrics`: every page,
read forwards or backwards, in one experiment or across the workspace, with few or many
matches, gives the order the rules below compute in Python. On real SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from databases import BACKENDS, module_workspace
from modelyard.entities import Metric, Run
from modelyard.entities.run_query import MetricFilter, RunQuery
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.sql import run_queries

RUNS = 45
T0 = 1_800_000_000.0
VALUES = (0.25, 0.5, 0.5, 0.75, math.inf, -math.inf, math.nan, 0.1)  # ties and non-finite too
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "==": operator.eq,
    "!=": operator.ne,
}

Latest = dict[str, dict[str, float]]  # run id -> metric -> latest value (NaN: left out)


def _points(index: int) -> list[Metric]:
    """A history whose latest point is not the last logged: steps out of order, a later
    timestamp on a repeated step, and an older point logged last."""
    final = VALUES[index % len(VALUES)]
    points = [
        Metric("acc", final, 4, T0 + 5),
        Metric("acc", 0.99, 2, T0 + 9),  # a lower step, logged later
        Metric("acc", 0.01, 4, T0 + 1),  # the same step, an older timestamp
    ]
    if index % 3:
        points.append(Metric("loss", (index * 7 % 10) / 10, index % 4, T0))
    return [] if index % 9 == 4 else points  # some runs log nothing


@pytest.fixture(scope="module", params=BACKENDS)
def logged(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_available: bool,
) -> Iterator[tuple[OpenWorkspace, list[Run], Latest]]:
    """Runs in two experiments, each history logged in two batches; the tests only read."""
    root = tmp_path_factory.mktemp("latest")
    with module_workspace(request.param, postgres_available, root, "latest-ws") as ws:
        runs, latest = [], {}
        for index in range(RUNS):
            run = ws.store.create_run("sweep" if index % 5 else "other", user="ana")
            points = _points(index)
            ws.store.log_batch(run.id, points[:1])
            ws.store.log_batch(run.id, points[1:])
            runs.append(run)
            latest[run.id] = _latest_by_the_rule(points)
        yield ws, runs, latest


def _latest_by_the_rule(points: list[Metric]) -> dict[str, float]:
    """Highest step, then latest timestamp, then last logged; a NaN counts as no value."""
    found: dict[str, float] = {}
    for name, group in itertools.groupby(sorted(points, key=lambda m: m.name), lambda m: m.name):
        ranked = list(group)
        newest = max(enumerate(ranked), key=lambda pair: (pair[1].step, pair[1].timestamp, pair[0]))
        if not math.isnan(newest[1].value):
            found[name] = newest[1].value
    return found


def _expected(
    runs: list[Run],
    latest: Latest,
    experiment: str | None,
    filters: list[MetricFilter],
    metric: str,
    descending: bool,
) -> list[str]:
    """Matching runs by the metric's value (ties newest first), then those without one."""
    matching = [
        run
        for run in runs
        if experiment in (None, run.experiment_name)
        and all(
            rule.name in latest[run.id] and COMPARE[rule.op](latest[run.id][rule.name], rule.value)
            for rule in filters
        )
    ]
    newest_first = sorted(matching, key=lambda run: (run.created_at, run.id), reverse=True)
    valued = [run for run in newest_first if metric in latest[run.id]]
    valued.sort(key=lambda run: latest[run.id][metric], reverse=descending)  # stable
    return [run.id for run in valued] + [
        run.id for run in newest_first if metric not in latest[run.id]
    ]


def _every_page(ws: OpenWorkspace, page_size: int, **query: Any) -> Iterator[str]:
    offset, total = 0, None
    while total is None or offset < total:
        page = ws.store.query_runs(RunQuery(offset=offset, limit=page_size, **query))
        assert total in (None, page.total)
        total = page.total
        assert len(page.runs) == min(page_size, total - offset)
        yield from (run.id for run in page.runs)
        offset += page_size


@pytest.fixture(params=["few matches", "many matches", "deep offsets", "deep, narrow window"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store lists few matching runs from the metric index, checks each run walked when
    many match, and finds where a deep page starts by counting in the metric index (from the
    entries just before it, or, when those all share its value, by counting the ones ahead):
    each must give the same pages (the thresholds are lowered so that these few runs use them)."""
    if request.param == "many matches":
        monkeypatch.setattr(run_queries, "_FEW_MATCHES", 0)
    if request.param.startswith("deep"):
        monkeypatch.setattr(run_queries, "_SKIP_FROM", 1)
    if request.param == "deep, narrow window":
        monkeypatch.setattr(run_queries, "_SEEK_WINDOW", 1)


@pytest.mark.usefixtures("strategy")
@pytest.mark.parametrize("experiment", ["sweep", None])
@pytest.mark.parametrize(
    "filters",
    [[], ["acc>=0.5"], ["acc<0.6", "loss>0.2"], ["loss!=0.5"], ["acc=0.5"]],
    ids=lambda filters: " ".join(filters) or "no filter",
)
@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
def test_every_page_follows_the_latest_value_rule(
    logged: tuple[OpenWorkspace, list[Run], Latest],
    experiment: str | None,
    filters: list[str],
    descending: bool,
) -> None:
    ws, runs, latest = logged
    rules = [MetricFilter.parse(text) for text in filters]
    for metric in ("acc", "loss"):
        expected = _expected(runs, latest, experiment, rules, metric, descending)
        for page_size in (4, 50):
            got = list(
                _every_page(
                    ws,
                    page_size,
                    experiment=experiment,
                    metric_filters=rules,
                    order_by=f"metric:{metric}",
                    descending=descending,
                )
            )
            assert got == expected, (metric, page_size)


def test_a_page_past_the_end_is_empty_and_counts_all(
    logged: tuple[OpenWorkspace, list[Run], Latest],
) -> None:
    ws, _runs, _latest = logged
    page = ws.store.query_runs(RunQuery(order_by="metric:acc", offset=RUNS, limit=10))
    assert (page.runs, page.total) == ([], RUNS)


def test_filters_alone_count_and_list_the_same_runs(
    logged: tuple[OpenWorkspace, list[Run], Latest],
) -> None:
    ws, runs, latest = logged
    rules = [MetricFilter.parse("acc>0.3"), MetricFilter.parse("loss<0.8")]
    page = ws.store.query_runs(RunQuery("sweep", metric_filters=rules, limit=1000))
    expected = set(_expected(runs, latest, "sweep", rules, "acc", True))
    assert page.total == len(expected) and {run.id for run in page.runs} == expected


def test_the_table_shows_latest_values_and_metric_names(
    logged: tuple[OpenWorkspace, list[Run], Latest],
) -> None:
    ws, runs, latest = logged
    ids = [run.id for run in runs]
    assert ws.store.latest_metric_values(ids, ["acc", "loss", "missing"]) == latest
    assert ws.store.metric_names(ids[:3]) == ["acc", "loss"]
    assert ws.store.metric_names(ids[4:5]) == []  # logged nothing
