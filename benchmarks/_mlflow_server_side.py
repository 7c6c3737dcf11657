"""The MLflow half of `benchmarks/server.py`; runs in the benchmarks' own MLflow virtualenv.

Two commands, each printing one JSON line (it imports only MLflow, not Modelyard):

- `seed`: a fresh SQLite tracking store with an experiment of N finished runs, each with a
  latest value of metric `x` (every 10th run has none), and one run with an M-point history of
  `x`. Rows go in by bulk SQL inserts into MLflow's own tables (`runs`, `metrics`,
  `latest_metrics`, built from its ORM models): creating 10,000 runs through MLflow's API would
  take far longer than what is measured. The schema itself is MLflow's, created by its store.
- `measure`: against an `mlflow server` on that store, started by `server.py`: `search_runs`
  sorted by `metrics.x DESC` (and filtered by `metrics.x > 0.5`), `get_metric_history` of the
  long history, `log_batch` in batches and `log_metric` one by one. Each answer is checked.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities import Metric
from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlRun
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.tracking import MlflowClient
from sqlalchemy import create_engine

METRIC = "x"
PAGE = 50
CHUNK = 10_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    seed = commands.add_parser("seed")
    seed.add_argument("--db", type=Path, required=True, help="SQLite file to create")
    seed.add_argument("--artifacts", type=Path, required=True)
    seed.add_argument("--runs", type=int, required=True)
    seed.add_argument("--history-points", type=int, required=True)
    measure = commands.add_parser("measure")
    measure.add_argument("--url", required=True)
    measure.add_argument("--experiment-id", required=True)
    measure.add_argument("--history-run-id", required=True)
    measure.add_argument("--runs", type=int, required=True, help="runs seeded, for the checks")
    measure.add_argument("--with-value-above-half", type=int, required=True)
    measure.add_argument("--history-points", type=int, required=True)
    measure.add_argument("--log-points", type=int, required=True)
    measure.add_argument("--one-by-one-points", type=int, required=True)
    measure.add_argument("--batch-size", type=int, required=True)
    measure.add_argument("--repeats", type=int, required=True)
    return parser.parse_args()


# Seeding ----------------------------------------------------------------------------------------


def seed(args: argparse.Namespace) -> dict[str, Any]:
    uri = f"sqlite:///{args.db.resolve()}"
    store = SqlAlchemyStore(uri, str(args.artifacts.resolve()))  # MLflow's schema, migrated
    experiment_id = store.create_experiment("bench")
    engine = create_engine(uri)
    rng = random.Random(0)
    now_ms = int(time.time() * 1000)
    above_half = 0
    with engine.begin() as connection:
        for first in range(0, args.runs, CHUNK):
            runs, latest = [], []
            for index in range(first, min(first + CHUNK, args.runs)):
                run_id = uuid.uuid4().hex
                runs.append(run_row(run_id, f"bench_{index + 1}", experiment_id, now_ms + index))
                if index % 10 == 9:
                    continue  # some runs never log x
                value = rng.random()
                above_half += value > 0.5
                latest.append(metric_row(run_id, value, now_ms, step=2))
            connection.execute(SqlRun.__table__.insert(), runs)
            connection.execute(SqlLatestMetric.__table__.insert(), latest)
            connection.execute(SqlMetric.__table__.insert(), latest)
        history_run_id = seed_history(connection, experiment_id, args.history_points, now_ms)
    engine.dispose()
    return {
        "mlflow_version": mlflow.__version__,
        "experiment_id": experiment_id,
        "history_run_id": history_run_id,
        "with_value_above_half": above_half,
    }


def seed_history(connection: Any, experiment_id: str, points: int, now_ms: int) -> str:
    run_id = uuid.uuid4().hex
    connection.execute(SqlRun.__table__.insert(), [run_row(run_id, "history", experiment_id, 0)])
    for first in range(0, points, CHUNK):
        rows = [
            metric_row(run_id, math.sin(step / 500), now_ms, step)
            for step in range(first, min(first + CHUNK, points))
        ]
        connection.execute(SqlMetric.__table__.insert(), rows)
    last = points - 1
    connection.execute(
        SqlLatestMetric.__table__.insert(),
        [metric_row(run_id, math.sin(last / 500), now_ms, last)],
    )
    return run_id


def run_row(run_id: str, name: str, experiment_id: str, start_ms: int) -> dict[str, Any]:
    return {
        "run_uuid": run_id,
        "name": name,
        "source_type": "LOCAL",
        "source_name": "",
        "entry_point_name": "",
        "user_id": "bench",
        "status": "FINISHED",
        "start_time": start_ms,
        "end_time": start_ms + 1,
        "source_version": "",
        "lifecycle_stage": "active",
        "artifact_uri": "",
        "experiment_id": int(experiment_id),
    }


def metric_row(run_id: str, value: float, timestamp: int, step: int) -> dict[str, Any]:
    return {
        "key": METRIC,
        "value": value,
        "timestamp": timestamp,
        "step": step,
        "is_nan": False,
        "run_uuid": run_id,
    }


# Measuring --------------------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> dict[str, Any]:
    client = MlflowClient(tracking_uri=args.url)
    return {
        "search_sorted": time_search(client, args, filter_string=""),
        "search_filtered": time_search(client, args, filter_string=f"metrics.{METRIC} > 0.5"),
        "history": time_history(client, args),
        "log_batch": time_log_batch(client, args),
        "log_metric": time_log_metric(client, args),
    }


def time_search(client: MlflowClient, args: argparse.Namespace, filter_string: str) -> dict:
    """First and second page of `search_runs` by `metrics.x DESC`, `repeats` times each."""
    timings: dict[str, list[float]] = {"first": [], "second": []}
    expected = args.with_value_above_half if filter_string else args.runs + 1  # + history run
    for _ in range(args.repeats):
        token = None
        for page in ("first", "second"):
            start = time.perf_counter()
            found = client.search_runs(
                [args.experiment_id],
                filter_string=filter_string,
                order_by=[f"metrics.{METRIC} DESC"],
                max_results=PAGE,
                page_token=token,
            )
            timings[page].append(time.perf_counter() - start)
            check_sorted_page(found, expected)
            token = found.token
    return {page: summary(seconds) for page, seconds in timings.items()}


def check_sorted_page(found: Any, expected: int) -> None:
    values = [run.data.metrics[METRIC] for run in found if METRIC in run.data.metrics]
    if len(found) != min(PAGE, expected) or values != sorted(values, reverse=True):
        raise SystemExit(f"search_runs answered a wrong page: {len(found)} runs, values {values}")


def time_history(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    seconds = []
    for _ in range(max(1, args.repeats // 2)):  # seconds each: fewer repeats
        start = time.perf_counter()
        history = client.get_metric_history(args.history_run_id, METRIC)
        seconds.append(time.perf_counter() - start)
        if len(history) != args.history_points:
            raise SystemExit(f"get_metric_history gave {len(history)} of {args.history_points}")
    return summary(seconds)


def time_log_batch(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    """`log_batch` through the server, building each batch's Metric objects inside the timing."""
    run_id = client.create_run(args.experiment_id).info.run_id
    start = time.perf_counter()
    for first in range(0, args.log_points, args.batch_size):
        now = int(time.time() * 1000)
        last = min(first + args.batch_size, args.log_points)
        client.log_batch(
            run_id, metrics=[Metric("y", float(i), now, i) for i in range(first, last)]
        )
    seconds = time.perf_counter() - start
    stored = len(client.get_metric_history(run_id, "y"))
    return {"points": args.log_points, "seconds": seconds, "stored": stored}


def time_log_metric(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    run_id = client.create_run(args.experiment_id).info.run_id
    start = time.perf_counter()
    for i in range(args.one_by_one_points):
        client.log_metric(run_id, "y", float(i), step=i)
    seconds = time.perf_counter() - start
    stored = len(client.get_metric_history(run_id, "y"))
    return {"points": args.one_by_one_points, "seconds": seconds, "stored": stored}


def summary(seconds: list[float]) -> dict[str, float]:
    return {"median_ms": statistics.median(seconds) * 1000, "max_ms": max(seconds) * 1000}


def main() -> None:
    args = parse_args()
    result = seed(args) if args.command == "seed" else measure(args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
