"""The MLflow half of `benchmarks/server.py`; runs in the benchmarks' own MLflow virtualenv.

Two commands, each printing one JSON line (it imports only MLflow, not Modelyard):

- `seed`: a fresh SQLite tracking store with an experiment of N finished runs, each with a
  latest value of metric `x` (every 10th run has none), and, in an experiment of its own, one
  run with an M-point series of `x`, or of each metric of `--history-metrics` (the values of
  Modelyard's series). Rows go in by bulk SQL inserts into MLflow's own tables (`runs`,
  `metrics`, `latest_metrics`, built from its ORM models): creating 10,000 runs through
  MLflow's API would take far longer than what is measured. The schema itself is MLflow's,
  created by its store.
- `measure`: against an `mlflow server` on that store, started by `server.py`, over plain HTTP
  as Modelyard's side is measured: `runs/search` sorted by `metrics.x DESC` (and filtered by
  `metrics.x > 0.5`), pages 1 and 2; the chart's route, `metrics/get-history-bulk-interval`,
  which samples the long series down to `max_results` points in the database (what MLflow's own
  UI asks for); then `log_batch` in batches and `log_metric` one by one through `MlflowClient`.
  Each measured request follows one unmeasured one, as on Modelyard's side; every answer is
  checked.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
import requests
from mlflow.entities import Metric
from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlRun, SqlTag
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
    seed.add_argument(
        "--history-metrics", default=METRIC, help="the series' metrics, comma-separated"
    )
    seed.add_argument(
        "--run-name-tags",
        action="store_true",
        help="give each run the `mlflow.runName` tag MLflow's own create_run sets (its UI"
        " fails on a run without tags)",
    )
    measure = commands.add_parser("measure")
    measure.add_argument("--url", required=True)
    measure.add_argument("--experiment-id", required=True)
    measure.add_argument("--history-run-id", required=True)
    measure.add_argument("--runs", type=int, required=True, help="runs seeded, for the checks")
    measure.add_argument("--with-value-above-half", type=int, required=True)
    measure.add_argument("--history-points", type=int, required=True)
    measure.add_argument("--max-points", type=int, required=True, help="the chart's max_results")
    measure.add_argument("--log-points", type=int, required=True)
    measure.add_argument("--one-by-one-points", type=int, required=True)
    measure.add_argument("--batch-size", type=int, required=True)
    measure.add_argument("--repeats", type=int, required=True, help="after one unmeasured")
    return parser.parse_args()


# Seeding ----------------------------------------------------------------------------------------


def seed(args: argparse.Namespace) -> dict[str, Any]:
    uri = f"sqlite:///{args.db.resolve()}"
    store = SqlAlchemyStore(uri, str(args.artifacts.resolve()))  # MLflow's schema, migrated
    experiment_id = store.create_experiment("bench")
    series_experiment_id = store.create_experiment("bench-series")  # not among the listed runs
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
            if args.run_name_tags:
                connection.execute(SqlTag.__table__.insert(), [run_name_tag(run) for run in runs])
            connection.execute(SqlLatestMetric.__table__.insert(), latest)
            connection.execute(SqlMetric.__table__.insert(), latest)
        history_run_id = seed_history(
            connection,
            series_experiment_id,
            args.history_points,
            args.history_metrics.split(","),
            now_ms,
        )
    engine.dispose()
    return {
        "mlflow_version": mlflow.__version__,
        "experiment_id": experiment_id,
        "history_experiment_id": series_experiment_id,
        "history_run_id": history_run_id,
        "with_value_above_half": above_half,
    }


def seed_history(
    connection: Any, experiment_id: str, points: int, metrics: list[str], now_ms: int
) -> str:
    """A run with a `points`-point series of each of `metrics` (the same values)."""
    run_id = uuid.uuid4().hex
    run = run_row(run_id, "history", experiment_id, 0)
    connection.execute(SqlRun.__table__.insert(), [run])
    connection.execute(SqlTag.__table__.insert(), [run_name_tag(run)])
    last = points - 1
    for key in metrics:
        for first in range(0, points, CHUNK):
            rows = [
                metric_row(run_id, wave(step), now_ms, step, key)
                for step in range(first, min(first + CHUNK, points))
            ]
            connection.execute(SqlMetric.__table__.insert(), rows)
        connection.execute(
            SqlLatestMetric.__table__.insert(), [metric_row(run_id, wave(last), now_ms, last, key)]
        )
    return run_id


def wave(step: int) -> float:
    """The values of Modelyard's series in `server.py`: noise on a slow wave, with spikes."""
    spike = 5.0 if step % 100_003 == 77 else 0.0
    return math.sin(step / 5_000) + 0.1 * math.sin(step * 12.9898) + spike


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


def run_name_tag(run: dict[str, Any]) -> dict[str, Any]:
    return {"key": "mlflow.runName", "value": run["name"], "run_uuid": run["run_uuid"]}


def metric_row(
    run_id: str, value: float, timestamp: int, step: int, key: str = METRIC
) -> dict[str, Any]:
    return {
        "key": key,
        "value": value,
        "timestamp": timestamp,
        "step": step,
        "is_nan": False,
        "run_uuid": run_id,
    }


# Measuring --------------------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> dict[str, Any]:
    client = MlflowClient(tracking_uri=args.url)
    with requests.Session() as http:  # keep-alive, as Modelyard's side uses one httpx.Client
        reads = {
            "search_sorted": time_search(http, args, filter_string=""),
            "search_filtered": time_search(http, args, filter_string=f"metrics.{METRIC} > 0.5"),
            "chart": time_chart(http, args),
        }
    return {
        **reads,
        "log_batch": time_log_batch(client, args),
        "log_metric": time_log_metric(client, args),
    }


def timed(call: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    """Seconds of `repeats` calls after one unmeasured call, and the last answer."""
    seconds, answer = [], call()
    for _ in range(repeats):
        start = time.perf_counter()
        answer = call()
        seconds.append(time.perf_counter() - start)
    return seconds, answer


def time_search(http: requests.Session, args: argparse.Namespace, filter_string: str) -> dict:
    """Pages 1 and 2 of `POST runs/search` by `metrics.x DESC`: the second with the first's
    token, each after one unmeasured request, `repeats` times."""
    expected = args.with_value_above_half if filter_string else args.runs
    body = {
        "experiment_ids": [args.experiment_id],
        "filter": filter_string,
        "order_by": [f"metrics.{METRIC} DESC"],
        "max_results": PAGE,
    }
    timings, token = {}, None
    for page, offset in (("first", 0), ("second", PAGE)):
        request = {**body, **({"page_token": token} if token else {})}

        def search(request: dict[str, Any] = request) -> dict[str, Any]:
            answer = http.post(f"{args.url}/api/2.0/mlflow/runs/search", json=request)
            answer.raise_for_status()
            found: dict[str, Any] = answer.json()
            return found

        seconds, found = timed(search, args.repeats)
        check_sorted_page(found, expected - offset, filtered=bool(filter_string))
        timings[page], token = summary(seconds), found.get("next_page_token")
    return timings


def check_sorted_page(found: dict[str, Any], left: int, filtered: bool) -> None:
    """The page's length, runs with x before those without, x in order, the filter."""
    runs = found.get("runs", [])
    values = [latest_x(run) for run in runs]
    present = [value for value in values if value is not None]
    wrong = [
        len(runs) != min(PAGE, left),
        values[: len(present)] != present,
        present != sorted(present, reverse=True),
        filtered and any(value is None or value <= 0.5 for value in values),
    ]
    if any(wrong):
        raise SystemExit(f"runs/search answered a wrong page: {len(runs)} runs, values {values}")


def latest_x(run: dict[str, Any]) -> float | None:
    metrics = run.get("data", {}).get("metrics", [])
    return next((float(m["value"]) for m in metrics if m["key"] == METRIC), None)


def time_chart(http: requests.Session, args: argparse.Namespace) -> dict[str, Any]:
    """`GET metrics/get-history-bulk-interval` of the long series, `max_results` points."""
    params = {"run_ids": args.history_run_id, "metric_key": METRIC, "max_results": args.max_points}
    url = f"{args.url}/api/2.0/mlflow/metrics/get-history-bulk-interval"

    def sampled() -> list[dict[str, Any]]:
        answer = http.get(url, params=params)
        answer.raise_for_status()
        metrics: list[dict[str, Any]] = answer.json().get("metrics", [])
        return metrics

    seconds, points = timed(sampled, args.repeats)
    check_sampled(points, args.history_points, args.max_points)
    return {**summary(seconds), "points": len(points)}


def check_sampled(points: list[dict[str, Any]], logged: int, max_points: int) -> None:
    """As many points as asked for, real logged ones, in step order, from the first to the last."""
    steps = [int(point.get("step", 0)) for point in points]
    wrong = [
        len(points) != min(max_points, logged),
        steps != sorted(set(steps)),
        bool(steps) and (steps[0], steps[-1]) != (0, logged - 1),
        any(
            abs(float(p["value"]) - wave(step)) > 1e-9
            for p, step in zip(points, steps, strict=True)
        ),
    ]
    if any(wrong):
        raise SystemExit(
            f"get-history-bulk-interval answered {len(points)} points (steps"
            f" {steps[:1]}…{steps[-1:]}) for {logged} logged and max_results {max_points}"
        )


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
