"""The portal's read-only JSON: a page of runs, a run's details, its metric series
(`entities/run_query.py` `RunPage`, `services/runs.py` `RunDetails`,
`entities/metric_series.py`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from modelyard.server.schemas.common import JsonFloat, ResponseModel
from modelyard.server.schemas.runs import Run

# (step, value): a finite point of a chart.
Point = Annotated[tuple[int, float], Field(description="[step, value]")]


class QueriedRun(Run):
    metrics: dict[str, JsonFloat] = Field(
        description="the latest values of the page's metric columns that this run logged"
    )
    params: dict[str, str] = Field(description="every param of the run")
    tags: dict[str, str] = Field(description="every tag of the run")


class RunPage(ResponseModel):
    total: int = Field(description="runs matching, on every page together")
    metric_columns: list[str]
    runs: list[QueriedRun]
    offset: int
    limit: int


class RunDetails(Run):
    duration_s: float | None = Field(description="from start to end, or to now while active")
    params: dict[str, str]
    tags: dict[str, str]
    properties: dict[str, str]
    metrics: dict[str, JsonFloat] = Field(description="the latest value of each metric")


class MetricSeries(ResponseModel):
    """One metric as a chart shows it: its finite points by step, thinned to `max_points`
    with each range's extremes kept; NaN and infinities are counted, not charted."""

    points: list[Point]
    count: int = Field(description="points logged, finite or not")
    non_finite: int
    downsampled: bool
    last: JsonFloat | None = Field(description="the value at the highest step")
    times: list[float] = Field(
        description="when each point was logged (Unix seconds), in the order of `points`"
    )


class MetricSeriesRead(ResponseModel):
    """A run's series as of `version`; none when the `version` sent was current already."""

    version: str
    changed: bool
    series: dict[str, MetricSeries] = Field(description="by metric name")
