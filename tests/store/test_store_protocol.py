"""`SqlStore` and `RestStore` are one interface: each offers every `TrackingStore` method with
the same signature, and the runs table and chart reads answer the same through REST as from the
database, on real SQLite and PostgreSQL, errors included."""

from __future__ import annotations

import dataclasses
import inspect
import math
import time
from collections.abc import Iterator

import pytest

from databases import BACKENDS, module_workspace
from modelyard.entities import Metric, RunStatus
from modelyard.entities.run_query import MetricFilter, RunQuery
from modelyard.errors import InvalidValue, NotFound
from modelyard.server import create_app
from modelyard.services.run_search import search_runs
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.base import TrackingStore
from modelyard.store.rest import RestStore
from modelyard.store.sql.store import SqlStore
from server.portal_support import populate
from server.serving import serve

RUNS = 60
T0 = 1_800_000_000.0


def _protocol_methods() -> list[str]:
    return sorted(
        name
        for name, member in vars(TrackingStore).items()
        if inspect.isfunction(member) and not name.startswith("_")
    )


@pytest.mark.parametrize("store_class", [SqlStore, RestStore])
def test_both_stores_offer_every_protocol_method_with_its_signature(
    store_class: type,
) -> None:
    methods = _protocol_methods()
    assert {"query_runs", "read_metric_series", "list_runs", "log_batch"} <= set(methods)
    for name in methods:
        expected = inspect.signature(getattr(TrackingStore, name))
        assert inspect.signature(getattr(store_class, name)) == expected, name


@dataclasses.dataclass(frozen=True)
class Stores:
    sql: SqlStore
    rest: RestStore
    ws: OpenWorkspace
    charted_run: str  # a run with a long series of every kind of value


@pytest.fixture(scope="module", params=BACKENDS)
def stores(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_available: bool,
) -> Iterator[Stores]:
    """One populated workspace per backend, and a server on it; the tests only read."""
    root = tmp_path_factory.mktemp("protocol")
    with module_workspace(request.param, postgres_available, root, "proto-ws") as ws:
        populate(ws, RUNS)
        charted = _log_odd_values(ws)
        with serve(create_app(ws, auth=False)) as url:
            rest = RestStore(url, token=None)
            try:
                assert isinstance(ws.store, SqlStore)
                yield Stores(ws.store, rest, ws, charted)
            finally:
                rest.close()


def _log_odd_values(ws: OpenWorkspace) -> str:
    """A run in another experiment whose values and tags test the wire forms: infinities,
    a NaN inside a series, a long series to thin, a tag value holding '=' and spaces."""
    run = ws.store.create_run("other", user="bo", status=RunStatus.RUNNING)
    series = [Metric("long", math.sin(step / 40), step, T0 + step) for step in range(3000)]
    series[1234] = Metric("long", math.nan, 1234, T0)
    series[2345] = Metric("long", math.inf, 2345, T0)
    odd = [Metric("loss", math.inf, 1, T0), Metric("val loss", 0.1234567891234, 1, T0)]
    for start in range(0, len(series), 1000):  # the most points a batch takes
        ws.store.log_batch(run.id, series[start : start + 1000])
    ws.store.log_batch(run.id, odd, tags={"note": "a=b ", "team": "vision"})
    for loss in (0.5, 0.25):  # its children, as a sweep's trials are
        child = ws.store.create_run("other", user="bo", parent_id=run.id)
        ws.store.log_batch(child.id, [Metric("loss", loss, 0, T0)], params={"lr": str(loss)})
    return run.id


QUERIES = [
    RunQuery(),
    RunQuery("sweep", order_by="metric:accuracy", descending=False, offset=5, limit=7),
    RunQuery(
        "sweep",
        statuses=[RunStatus.COMPLETED, RunStatus.FAILED],
        tags={"team": "speech"},
        metric_filters=[MetricFilter.parse("accuracy>0.3")],
        order_by="display_name",
        limit=1000,
    ),
    RunQuery(tags={"note": "a=b "}),
    RunQuery(metric_filters=[MetricFilter("val loss", ">=", 0.1234567891234)]),
    RunQuery(order_by="metric:loss", limit=5),
    RunQuery(order_by="number", descending=False, offset=55, limit=10),
    RunQuery(offset=1000, limit=3),  # past the end: no runs, every match counted
]


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_a_runs_query_answers_the_same_through_rest(stores: Stores, query: RunQuery) -> None:
    expected = stores.sql.query_runs(query)
    assert stores.rest.query_runs(query) == expected
    remote = dataclasses.replace(stores.ws, store=stores.rest)
    assert search_runs(remote, query) == expected  # the service, on a remote workspace


def test_the_queries_compared_see_runs_values_and_infinities(stores: Stores) -> None:
    """The comparisons above are not of empty pages."""
    assert stores.sql.query_runs(RunQuery("sweep")).total == RUNS
    odd = stores.rest.query_runs(QUERIES[3])
    assert [run.id for run in odd.runs] == [stores.charted_run]
    assert odd.metrics[stores.charted_run] == {
        "long": math.sin(2999 / 40),
        "loss": math.inf,
        "val loss": 0.1234567891234,
    }
    assert odd.tags[stores.charted_run] == {"note": "a=b ", "team": "vision"}
    assert odd.params[stores.charted_run] == {}
    assert stores.rest.query_runs(QUERIES[4]).total == 1  # the exact value survived the trip
    assert "accuracy" in stores.rest.query_runs(QUERIES[1]).metric_columns


def test_a_runs_query_keeps_one_runs_children_through_either_store(stores: Stores) -> None:
    query = RunQuery("other", parent_id=stores.charted_run, order_by="metric:loss")
    expected = stores.sql.query_runs(query)
    assert [expected.metrics[run.id]["loss"] for run in expected.runs] == [0.5, 0.25]
    assert {run.parent_id for run in expected.runs} == {stores.charted_run}
    assert [expected.params[run.id] for run in expected.runs] == [{"lr": "0.5"}, {"lr": "0.25"}]
    assert stores.rest.query_runs(query) == expected


def test_an_unknown_experiment_is_not_found_through_either_store(stores: Stores) -> None:
    for store in (stores.sql, stores.rest):
        with pytest.raises(NotFound, match="experiment 'nope' not found"):
            store.query_runs(RunQuery("nope"))


@pytest.mark.parametrize(
    ("names", "max_points"), [((), 2000), (("long",), 50), (("loss", "missing"), 4)]
)
def test_metric_series_read_the_same_through_rest(
    stores: Stores, names: tuple[str, ...], max_points: int
) -> None:
    run_id = stores.charted_run
    expected = stores.sql.read_metric_series(run_id, names, max_points)
    assert expected.changed and expected.series
    assert stores.rest.read_metric_series(run_id, names, max_points) == expected
    quiet = stores.rest.read_metric_series(run_id, names, max_points, expected.version)
    assert quiet == stores.sql.read_metric_series(run_id, names, max_points, expected.version)
    assert not quiet.changed and quiet.series == []


def test_a_thinned_series_keeps_its_counts_through_rest(stores: Stores) -> None:
    (series,) = stores.rest.read_metric_series(stores.charted_run, ["long"], 50).series
    assert series.downsampled and len(series.points) <= 50
    assert (series.count, series.non_finite) == (3000, 2)


def test_an_unknown_run_has_no_series_through_either_store(stores: Stores) -> None:
    for store in (stores.sql, stores.rest):
        with pytest.raises(NotFound):
            store.read_metric_series("0" * 32)


def test_the_series_version_moves_when_a_point_is_logged(stores: Stores) -> None:
    run = stores.sql.create_run("versions", user="ana")
    before = stores.rest.read_metric_series(run.id)
    stores.rest.log_batch(run.id, [Metric("x", 1.0, 0, time.time())])
    after = stores.rest.read_metric_series(run.id, known_version=before.version)
    assert after.changed and after.version != before.version
    assert [s.name for s in after.series] == ["x"]


@pytest.mark.parametrize("moment", [math.nan, math.inf, -1.0])
def test_a_point_at_no_time_is_refused_in_one_line_by_either_store(
    stores: Stores, moment: float
) -> None:
    run = stores.sql.create_run("times", user="ana")
    point = [Metric("x", 1.0, 0, time.time()), Metric("x", 2.0, 1, moment)]
    messages = []
    for store in (stores.sql, stores.rest):
        with pytest.raises(InvalidValue) as refused:
            store.log_batch(run.id, point)
        messages.append(str(refused.value))
    assert messages[0] == messages[1]
    assert "is not a time" in messages[0] and "\n" not in messages[0]
    assert stores.sql.get_metric_history(run.id) == []  # nothing of the batch was written
