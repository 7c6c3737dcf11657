"""The runs query behind the portal app's runs table (`GET /api/v1/runs-query`): paging, sorting and
filtering done by the database, on SQLite and PostgreSQL, checked against the same rules applied
in Python to a few hundred runs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from databases import BACKENDS, module_workspace
from modelyard.entities import Run, RunStatus
from modelyard.entities.run_query import MetricFilter, RunQuery, parse_tag_filter
from modelyard.errors import InvalidValue, NotFound
from modelyard.services.workspaces import OpenWorkspace
from server.portal_support import API, populate, served

RUNS = 240


@pytest.fixture(scope="module", params=BACKENDS)
def sweep(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_available: bool,
) -> Iterator[tuple[OpenWorkspace, list[Run]]]:
    """One workspace of runs per backend for the whole module: the tests only read it."""
    root = tmp_path_factory.mktemp("sweep")
    with module_workspace(request.param, postgres_available, root, "sweep-ws") as ws:
        populate(ws, RUNS)
        ws.store.create_run("elsewhere", user="bo")  # another experiment, never listed below
        yield ws, ws.store.list_runs("sweep", limit=RUNS)


def _latest_accuracy(ws: OpenWorkspace, run: Run) -> float | None:
    history = ws.store.get_metric_history(run.id, "accuracy")
    if not history:
        return None
    last = max(history, key=lambda m: m.step)  # one point per step in these runs
    return None if math.isnan(last.value) else last.value


def _expected(runs: list[Run], key: Callable[[Run], Any], descending: bool) -> list[str]:
    """The store's rule: the key (missing values last), then newest first, then id."""
    ordered = sorted(runs, key=lambda r: (r.created_at, r.id), reverse=True)
    present = [run for run in ordered if key(run) is not None]
    missing = [run for run in ordered if key(run) is None]
    present.sort(key=key, reverse=descending)  # stable: ties stay newest first
    return [run.id for run in present + missing]


def _all_pages(ws: OpenWorkspace, page_size: int, **query: Any) -> Iterator[str]:
    offset, total = 0, None
    while total is None or offset < total:
        page = ws.store.query_runs(RunQuery("sweep", offset=offset, limit=page_size, **query))
        assert total in (None, page.total), "the total must not change between pages"
        total = page.total
        assert len(page.runs) == min(page_size, total - offset)
        yield from (run.id for run in page.runs)
        offset += page_size


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("order_by", ["created", "number", "status", "display_name"])
def test_paging_through_every_sort_gives_each_run_once_in_order(
    sweep: tuple[OpenWorkspace, list[Run]], order_by: str, descending: bool
) -> None:
    ws, runs = sweep
    keys: dict[str, Callable[[Run], Any]] = {
        "created": lambda r: (r.created_at, r.id),
        "number": lambda r: r.number,
        "status": lambda r: r.status.value,
        "display_name": lambda r: r.display_name,
    }
    got = list(_all_pages(ws, 37, order_by=order_by, descending=descending))
    assert got == _expected(runs, keys[order_by], descending)


@pytest.mark.parametrize("descending", [True, False])
def test_sorting_by_a_metric_uses_its_value_at_the_highest_step_and_puts_none_last(
    sweep: tuple[OpenWorkspace, list[Run]], descending: bool
) -> None:
    ws, runs = sweep
    latest = {run.id: _latest_accuracy(ws, run) for run in runs}
    got = list(_all_pages(ws, 50, order_by="metric:accuracy", descending=descending))
    assert got == _expected(runs, lambda r: latest[r.id], descending)
    assert latest[got[-1]] is None  # never logged, or NaN


@pytest.mark.parametrize(
    "text", ["accuracy>0.9", "accuracy>=0.5", "accuracy<0.25", "accuracy<=0.3", "accuracy!=0.5"]
)
def test_metric_filters_compare_the_latest_value(
    sweep: tuple[OpenWorkspace, list[Run]], text: str
) -> None:
    ws, runs = sweep
    rule = MetricFilter.parse(text)
    compare = {
        ">": float.__gt__,
        ">=": float.__ge__,
        "<": float.__lt__,
        "<=": float.__le__,
        "!=": float.__ne__,
    }[rule.op]
    matching = [
        run.id
        for run in runs
        if (value := _latest_accuracy(ws, run)) is not None and compare(value, rule.value)
    ]
    page = ws.store.query_runs(RunQuery("sweep", metric_filters=[rule], limit=1000))
    assert 0 < page.total == len(matching) < RUNS
    assert [run.id for run in page.runs] == _expected(
        [run for run in runs if run.id in matching], lambda r: (r.created_at, r.id), True
    )


def test_status_tag_and_metric_filters_combine(sweep: tuple[OpenWorkspace, list[Run]]) -> None:
    ws, runs = sweep
    statuses = [RunStatus.COMPLETED, RunStatus.FAILED]
    query = RunQuery(
        "sweep",
        statuses=statuses,
        tags={"team": "vision", "seed": "1"},
        metric_filters=[MetricFilter.parse("accuracy>0.2"), MetricFilter.parse("loss < 0.9")],
        limit=1000,
    )
    page = ws.store.query_runs(query)
    data = {run.id: ws.store.get_run_data(run.id) for run in runs}
    expected = {
        run.id
        for run in runs
        if run.status in statuses
        and data[run.id].tags == {"team": "vision", "seed": "1"}
        and (_latest_accuracy(ws, run) or 0) > 0.2
        and data[run.id].latest_metrics.get("loss", 1) < 0.9
    }
    assert expected and {run.id for run in page.runs} == expected and page.total == len(expected)


def test_an_equality_filter_and_a_tag_nobody_has(sweep: tuple[OpenWorkspace, list[Run]]) -> None:
    ws, _runs = sweep
    equal = RunQuery("sweep", metric_filters=[MetricFilter.parse("accuracy=0.01")])
    assert ws.store.query_runs(equal).total
    nobody = ws.store.query_runs(RunQuery("sweep", tags={"team": "nobody"}))
    assert (nobody.runs, nobody.total) == ([], 0)
    assert ws.store.query_runs(RunQuery(tags={"team": "vision"})).total == len(range(0, RUNS, 3))


def test_the_page_reports_latest_values_and_metric_names(
    sweep: tuple[OpenWorkspace, list[Run]],
) -> None:
    ws, runs = sweep
    ids = [run.id for run in runs[:30]]
    assert ws.store.metric_names(ids) == ["accuracy", "loss"]
    values = ws.store.latest_metric_values(ids, ["accuracy", "missing"])
    for run in runs[:30]:
        expected = _latest_accuracy(ws, run)
        assert values[run.id] == ({} if expected is None else {"accuracy": expected})


def test_a_bad_query_is_refused_with_the_fix() -> None:
    with pytest.raises(InvalidValue, match=r"like 'accuracy>0\.9'"):
        MetricFilter.parse("accuracy>>0.9")
    with pytest.raises(InvalidValue, match="finite number"):
        MetricFilter.parse("accuracy>nan")
    with pytest.raises(InvalidValue, match="KEY=VALUE"):
        parse_tag_filter("team")
    assert parse_tag_filter("note= a=b ") == ("note", " a=b ")
    assert MetricFilter.parse(" val_loss <= 1e-3 ") == MetricFilter("val_loss", "<=", 0.001)


def test_bad_sorts_pages_and_experiments_are_refused(workspace: OpenWorkspace) -> None:
    with pytest.raises(InvalidValue, match="cannot sort runs by 'owner'"):
        RunQuery(order_by="owner")
    with pytest.raises(InvalidValue, match="limit 1 to 1000"):
        RunQuery(limit=0)
    with pytest.raises(InvalidValue, match="offset is 0 to"):
        RunQuery(offset=-1)
    with pytest.raises(NotFound, match="experiment 'nope' not found"):
        workspace.store.query_runs(RunQuery("nope"))


def test_the_json_route_pages_sorts_and_filters(sqlite_workspace: OpenWorkspace) -> None:
    ws = sqlite_workspace
    populate(ws, 60)
    with served(ws, auth_on=False) as site:
        answer = httpx.get(
            f"{site.url}{API}/runs-query",
            params=[
                ("experiment", "sweep"),
                ("status", "Completed"),
                ("status", "Failed"),
                ("tag", "team=speech"),
                ("metric", "accuracy>0.3"),
                ("sort", "metric:accuracy"),
                ("order", "asc"),
                ("limit", "5"),
                ("offset", "2"),
            ],
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        expected = ws.store.query_runs(
            RunQuery(
                "sweep",
                statuses=[RunStatus.COMPLETED, RunStatus.FAILED],
                tags={"team": "speech"},
                metric_filters=[MetricFilter.parse("accuracy>0.3")],
                order_by="metric:accuracy",
                descending=False,
                offset=2,
                limit=5,
            )
        )
        assert body["total"] == expected.total and body["offset"] == 2 and body["limit"] == 5
        assert [run["id"] for run in body["runs"]] == [run.id for run in expected.runs]
        assert body["metric_columns"] == ["accuracy", "loss"]
        values = [run["metrics"]["accuracy"] for run in body["runs"]]
        assert values == sorted(values) and all(value > 0.3 for value in values)
        refused = httpx.get(f"{site.url}{API}/runs-query", params={"metric": "accuracy>>1"})
        assert refused.status_code == 400 and refused.json()["code"] == "INVALID_VALUE"
        assert httpx.get(f"{site.url}{API}/runs-query?limit=1001").status_code == 422
