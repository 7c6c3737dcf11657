"""The runs-table vocabulary both stores share: a query is checked when made, filters read back
exactly from their text form, and pages and series survive their JSON form."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from modelyard.entities import Run, RunStatus, limits
from modelyard.entities.metric_series import MetricSeries, MetricSeriesRead
from modelyard.entities.run_query import (
    METRIC_COLUMNS_MAX,
    MetricFilter,
    RunPage,
    RunQuery,
    parse_tag_filter,
)
from modelyard.errors import InvalidValue


def test_a_query_is_checked_and_normalized_when_made() -> None:
    query = RunQuery(statuses=["Completed"], metric_filters=[MetricFilter("a", ">", 1.0)])  # type: ignore[list-item]
    assert query.statuses == (RunStatus.COMPLETED,)
    assert query.metric_filters == (MetricFilter("a", ">", 1.0),)
    with pytest.raises(InvalidValue, match="cannot sort runs by 'metric:'"):
        RunQuery(order_by="metric:")
    with pytest.raises(InvalidValue, match="limit 1 to 1000"):
        RunQuery(limit=1001)
    with pytest.raises(InvalidValue, match="offset is 0 to"):
        RunQuery(offset=limits.OFFSET_MAX + 1)


def test_the_metrics_a_query_mentions_come_first_among_the_columns() -> None:
    query = RunQuery(order_by="metric:f1", metric_filters=[MetricFilter.parse("loss<1")])
    assert query.sort_metric == "f1" and RunQuery().sort_metric is None
    logged = [f"m{index:02d}" for index in range(20)] + ["loss"]
    columns = query.metric_columns(logged)
    assert columns[:2] == ["f1", "loss"] and len(columns) == METRIC_COLUMNS_MAX
    assert columns[2:] == logged[: METRIC_COLUMNS_MAX - 2]


@pytest.mark.parametrize("value", [0.1234567891234, 1e-300, -2.5e17, 3.0])
def test_a_metric_filter_reads_back_exactly_from_its_text(value: float) -> None:
    rule = MetricFilter("val loss", "<=", value)
    assert MetricFilter.parse(rule.to_text()) == rule
    assert parse_tag_filter("note=a=b ") == ("note", "a=b ")


def test_a_page_and_a_series_survive_json() -> None:
    run = Run(
        id="a" * 32,
        experiment_id="e" * 32,
        experiment_name="e",
        number=1,
        display_name="first",
        status=RunStatus.COMPLETED,
        created_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        user="ana",
    )
    page = RunPage(
        [run],
        7,
        ["loss", "acc"],
        {run.id: {"loss": -math.inf, "acc": 0.5}},
        params={run.id: {"learning_rate": "0.1"}},
        tags={run.id: {"note": "a=b "}},
    )
    assert RunPage.from_dict(json.loads(json.dumps(page.to_dict(), allow_nan=False))) == page
    series = MetricSeries("loss", [(0, 1.0), (9, 0.25)], count=12, finite=10, last=math.inf)
    read = MetricSeriesRead("12", True, [series])
    back = MetricSeriesRead.from_dict(json.loads(json.dumps(read.to_dict(), allow_nan=False)))
    assert back == read and back.series[0].non_finite == 2
