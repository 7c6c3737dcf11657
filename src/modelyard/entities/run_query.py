"""What a runs table asks for and gets back, the same for every store (SQL or REST).

A `RunQuery` names the runs (experiment, statuses, tags, metric filters), their order and one
page of them; a `RunPage` is that page, how many runs match in all, and the latest values of the
metrics a table of them shows. The text forms parsed here (`accuracy>0.9`, `team=vision`,
`metric:loss`) are the ones the portal's URLs and the REST route take.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from modelyard.entities import limits
from modelyard.entities.records import Run, float_from_json, float_to_json
from modelyard.entities.run_status import RunStatus
from modelyard.errors import InvalidValue

RUN_ORDERS: Final = ("created", "status", "number", "display_name")
METRIC_ORDER_PREFIX: Final = "metric:"
PAGE_SIZE_MAX: Final = 1000
METRIC_COLUMNS_MAX: Final = 8  # besides the metrics the query sorts or filters by
OPERATORS: Final = ("<=", ">=", "!=", "==", "<", ">", "=")
_FILTER_FORM = re.compile(r"\s*(?P<name>[^<>=!]+?)\s*(?P<op><=|>=|!=|==|<|>|=)\s*(?P<value>\S+)\s*")


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

    def to_text(self) -> str:
        """The form `parse` reads back exactly (`__str__` rounds the value for messages)."""
        return f"{self.name}{self.op}{self.value!r}"

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


def check_page(offset: int, limit: int) -> None:
    if not 0 <= offset <= limits.OFFSET_MAX or not 1 <= limit <= PAGE_SIZE_MAX:
        raise InvalidValue(
            f"invalid page (offset {offset}, limit {limit}): offset is 0 to {limits.OFFSET_MAX}"
            f" and limit 1 to {PAGE_SIZE_MAX}",
            offset=offset,
            limit=limit,
        )


@dataclass(frozen=True)
class RunQuery:
    """Filters, order and page of a runs table; checked when made, so no store sees a bad one.

    `order_by` is a column of `RUN_ORDERS` or `metric:NAME` (a metric's latest value; runs
    without one come last). Ties are broken newest first, then by id, so pages never overlap.
    `parent_id` keeps the child runs of one run (a sweep's trials).
    """

    experiment: str | None = None
    statuses: Sequence[RunStatus] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    metric_filters: Sequence[MetricFilter] = ()
    order_by: str = "created"
    descending: bool = True
    offset: int = 0
    limit: int = 50
    parent_id: str | None = None

    def __post_init__(self) -> None:
        check_order(self.order_by)
        check_page(self.offset, self.limit)
        # Any sequence in, tuples and a plain dict kept: one query, whatever it was built from.
        object.__setattr__(self, "statuses", tuple(RunStatus(s) for s in self.statuses))
        object.__setattr__(self, "tags", dict(self.tags))
        object.__setattr__(self, "metric_filters", tuple(self.metric_filters))

    @property
    def sort_metric(self) -> str | None:
        if self.order_by.startswith(METRIC_ORDER_PREFIX):
            return self.order_by[len(METRIC_ORDER_PREFIX) :]
        return None

    def mentioned_metrics(self) -> list[str]:
        """Metrics the query sorts or filters by: always shown as columns."""
        names = [self.sort_metric] if self.sort_metric else []
        names += [rule.name for rule in self.metric_filters]
        return list(dict.fromkeys(names))

    def metric_columns(self, logged: Sequence[str]) -> list[str]:
        """The metrics a table of the page shows: those mentioned, then others the page's runs
        logged, up to `METRIC_COLUMNS_MAX` in all (more only if more are mentioned)."""
        mentioned = self.mentioned_metrics()
        others = [name for name in logged if name not in mentioned]
        return (mentioned + others)[: max(METRIC_COLUMNS_MAX, len(mentioned))]


@dataclass(frozen=True)
class RunPage:
    """One page of a `RunQuery`'s runs, and how many match on every page together."""

    runs: list[Run]
    total: int
    metric_columns: list[str] = field(default_factory=list)
    # run id -> metric name -> latest value, for the `metric_columns` a run logged (not NaN)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    # run id -> key -> value: every param and tag of the page's runs (a table's optional columns)
    params: dict[str, dict[str, str]] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "metric_columns": self.metric_columns,
            "runs": [
                {
                    **run.to_dict(),
                    "metrics": _json_floats(self.metrics.get(run.id, {})),
                    "params": self.params.get(run.id, {}),
                    "tags": self.tags.get(run.id, {}),
                }
                for run in self.runs
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunPage:
        runs = data["runs"]
        return cls(
            runs=[Run.from_dict(item) for item in runs],
            total=int(data["total"]),
            metric_columns=list(data["metric_columns"]),
            metrics={
                item["id"]: {
                    k: float(float_from_json(v)) for k, v in (item.get("metrics") or {}).items()
                }
                for item in runs
            },
            params={item["id"]: dict(item.get("params") or {}) for item in runs},
            tags={item["id"]: dict(item.get("tags") or {}) for item in runs},
        )


def _json_floats(values: dict[str, float]) -> dict[str, Any]:
    return {name: float_to_json(value) for name, value in values.items()}


def _floats_from_json(values: dict[str, Any]) -> dict[str, float]:
    return {name: float(float_from_json(value)) for name, value in values.items()}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
