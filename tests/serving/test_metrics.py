"""The replica's metrics page, in the Prometheus text format."""

from __future__ import annotations

import pytest
from replicas import metric_value

from modelyard.serving.metrics import ReplicaMetrics


def test_requests_errors_latency_and_batch_sizes() -> None:
    metrics = ReplicaMetrics()
    metrics.request_done(200, 0.004)
    metrics.request_done(200, 0.2)
    metrics.request_done(401, 0.001)
    metrics.request_done(500, 0.03)
    metrics.batch_handled(1)
    metrics.batch_handled(5)
    page = metrics.render()
    assert metric_value(page, 'modelyard_scoring_requests_total{status="200"}') == 2
    assert metric_value(page, 'modelyard_scoring_requests_total{status="500"}') == 1
    assert metric_value(page, 'modelyard_scoring_errors_total{kind="client"}') == 1
    assert metric_value(page, 'modelyard_scoring_errors_total{kind="server"}') == 1
    duration = "modelyard_scoring_request_duration_seconds"
    assert metric_value(page, f'{duration}_bucket{{le="0.005"}}') == 2
    assert metric_value(page, f'{duration}_bucket{{le="+Inf"}}') == 4
    assert metric_value(page, f"{duration}_count") == 4
    assert metric_value(page, f"{duration}_sum") == pytest.approx(0.235)
    assert metric_value(page, 'modelyard_scoring_batch_size_bucket{le="4"}') == 1
    assert metric_value(page, 'modelyard_scoring_batch_size_bucket{le="8"}') == 2
    assert metric_value(page, "modelyard_scoring_batch_size_sum") == 6
    assert "# TYPE modelyard_scoring_batch_size histogram" in page and page.endswith("\n")
