"""A batch travels as the JSON `json.dumps` would give of its points' `to_dict()`s, whatever
the points hold: the one-pass writer of `RestStore.log_batch` changes the cost, not the text."""

from __future__ import annotations

import json
import math
from types import MappingProxyType
from typing import Any

import numpy as np

from modelyard.entities import Metric
from modelyard.store.rest import batch_json


def _as_dumped(metrics: list[Metric], params: Any, tags: Any) -> Any:
    body = {
        "metrics": [metric.to_dict() for metric in metrics],
        "params": dict(params) if params is not None else None,
        "tags": dict(tags) if tags is not None else None,
    }
    return json.loads(json.dumps(body))


def test_the_body_reads_back_as_the_dicts_would() -> None:
    metrics = [
        Metric("loss", 0.1, 0, 1_800_000_000.123456),
        Metric('quote " back\\slash\ttab', -0.0, 2**63 - 1, 0.0),
        Metric("naïve ☃", 1e300, 7, 1.5),
        Metric("nan", math.nan, 1, 2.0),
        Metric("inf", math.inf, 1, 2.0),
        Metric("-inf", -math.inf, 1, 2.0),
        Metric("numpy", np.float64(0.25), 3, 2.0),  # a float subclass: no repr of its own
        Metric("int", 3, 4, 5),  # type: ignore[arg-type]  # not the plain path
    ]
    params = MappingProxyType({"lr": "0.1"})
    tags = {"note": 'a "tag"'}
    assert json.loads(batch_json(metrics, params, tags)) == _as_dumped(metrics, params, tags)
    assert json.loads(batch_json(metrics, None, None)) == _as_dumped(metrics, None, None)


def test_floats_travel_exactly() -> None:
    values = [0.1 + 0.2, 1 / 3, 5e-324, 1.7976931348623157e308]
    read = json.loads(batch_json([Metric("x", v, i, v) for i, v in enumerate(values)], None, None))
    assert [point["value"] for point in read["metrics"]] == values
    assert [point["timestamp"] for point in read["metrics"]] == values
