"""The MLflow half of `benchmarks/tracking.py`; runs in the benchmark's own MLflow virtualenv.

Logs metric points into a fresh tracking store (a SQLite file, or an empty PostgreSQL schema) in
two ways, `mlflow.log_metric` one by one and `MlflowClient().log_batch` in batches, checks that
every point is stored, and prints one JSON line with the timings. Not meant to be run by hand
(it imports only MLflow, not Modelyard).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

METRIC = "loss"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tracking-uri", required=True, help="sqlite:///FILE or postgresql://…")
    parser.add_argument("--points", type=int, required=True, help="points for log_batch")
    parser.add_argument("--one-by-one-points", type=int, required=True, help="for log_metric")
    parser.add_argument("--batch-size", type=int, required=True)
    return parser.parse_args()


def stored_points(client: MlflowClient, run_id: str) -> int:
    return len(client.get_metric_history(run_id, METRIC))


def time_log_metric(client: MlflowClient, experiment_id: str, points: int) -> dict[str, Any]:
    """`mlflow.log_metric` per point: one store call (one transaction) each."""
    with mlflow.start_run(experiment_id=experiment_id) as run:
        start = time.perf_counter()
        for i in range(points):
            mlflow.log_metric(METRIC, float(i), step=i)
        seconds = time.perf_counter() - start
    return {"points": points, "seconds": seconds, "stored": stored_points(client, run.info.run_id)}


def time_log_batch(
    client: MlflowClient, experiment_id: str, points: int, batch_size: int
) -> dict[str, Any]:
    """`MlflowClient().log_batch`, building each batch's Metric objects inside the timing."""
    run_id = client.create_run(experiment_id).info.run_id
    start = time.perf_counter()
    for first in range(0, points, batch_size):
        now = int(time.time() * 1000)
        batch = [
            Metric(METRIC, float(i), now, i) for i in range(first, min(first + batch_size, points))
        ]
        client.log_batch(run_id, metrics=batch)
    seconds = time.perf_counter() - start
    client.set_terminated(run_id)
    return {"points": points, "seconds": seconds, "stored": stored_points(client, run_id)}


def main() -> None:
    args = parse_args()
    mlflow.set_tracking_uri(args.tracking_uri)
    client = MlflowClient()
    experiment_id = client.create_experiment("bench")  # Creates the schema: outside the timings.
    result = {
        "mlflow_version": mlflow.__version__,
        "log_metric": time_log_metric(client, experiment_id, args.one_by_one_points),
        "log_batch": time_log_batch(client, experiment_id, args.points, args.batch_size),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
