"""Seeding a Modelyard workspace for the server benchmarks, fast: `seed_runs` puts N finished
runs in one experiment by bulk SQL inserts into the store's tables, `seed_series` logs long
series through the store. Shared by `server.py` and `portal.py`; MLflow's side seeds the same
data in `_mlflow_server_side.py`.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelyard.services.workspaces import OpenWorkspace

EXPERIMENT = "bench"
METRIC = "x"
SEED_CHUNK = 10_000


def seed_runs(ws: OpenWorkspace, count: int) -> tuple[int, int]:
    """`count` finished runs in one experiment, by bulk SQL inserts into the store's tables
    (100,000 runs through the API would take minutes and measure nothing); the runs with a
    value of x, and of those the ones above 0.5."""
    from sqlalchemy import insert, text, update

    from modelyard.store.sql.engine import make_engine
    from modelyard.store.sql.models import ExperimentRow, LatestMetricRow, MetricRow, RunRow

    experiment_id = ws.store.get_or_create_experiment(EXPERIMENT).id
    rng, engine = random.Random(0), make_engine(ws.store.uri)
    created = datetime.now(UTC) - timedelta(days=1)
    latest_x: list[float] = []
    with engine.begin() as connection:
        for first in range(0, count, SEED_CHUNK):
            runs, metrics, latest = [], [], []
            for index in range(first, min(first + SEED_CHUNK, count)):
                run_id, at = uuid.uuid4().hex, created + timedelta(milliseconds=index)
                runs.append(run_row(run_id, experiment_id, index + 1, at))
                points = run_points(index, rng)
                metrics += [metric_row(run_id, *point, at) for point in points]
                newest = {name: (value, step) for name, value, step in points}  # steps ascend
                latest += [
                    {**metric_row(run_id, name, *point, at), "experiment_id": experiment_id}
                    for name, point in newest.items()
                ]
                latest_x += [newest[METRIC][0]] if METRIC in newest else []
            connection.execute(insert(RunRow.__table__), runs)
            connection.execute(insert(MetricRow.__table__), metrics)
            connection.execute(insert(LatestMetricRow.__table__), latest)
        connection.execute(
            update(ExperimentRow).where(ExperimentRow.id == experiment_id).values(run_counter=count)
        )
        if connection.dialect.name == "postgresql":
            # What autovacuum does a minute after a bulk load: the planner needs statistics.
            connection.execute(text("ANALYZE experiments, runs, metrics, latest_metrics"))
    engine.dispose()
    return len(latest_x), sum(value > 0.5 for value in latest_x)


def run_points(index: int, rng: random.Random) -> list[tuple[str, float, int]]:
    """(metric, value, step) by ascending step: x at steps 0–2, its latest value uniform in
    [0, 1), except every 10th run, which never logs x; loss once."""
    points = [("loss", 1 / (index + 1), 0)]
    if index % 10 != 9:
        final = rng.random()
        points += [(METRIC, final * step / 2, step) for step in range(3)]
    return points


def metric_row(run_id: str, name: str, value: float, step: int, at: datetime) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "name": name,
        "step": step,
        "value": value,
        "timestamp": at.timestamp(),
    }


def run_row(run_id: str, experiment_id: str, number: int, created: datetime) -> dict[str, Any]:
    return {
        "id": run_id,
        "experiment_id": experiment_id,
        "number": number,
        "display_name": f"{EXPERIMENT}_{number}",
        "status": "Completed",
        "user_name": "bench",
        "created_at": created,
        "source_arguments": "[]",
    }


def seed_series(ws: OpenWorkspace, points: int, names: tuple[str, ...] = (METRIC,)) -> str:
    """A run of its own with a `points`-point series of each metric in `names` (the same
    values), logged through the store in batches."""
    from modelyard.entities import Metric
    from modelyard.entities.limits import METRICS_PER_BATCH_MAX

    run_id = ws.store.create_run(f"{EXPERIMENT}-series", user="bench").id
    now = time.time()
    for name in names:
        for first in range(0, points, METRICS_PER_BATCH_MAX):
            last = min(first + METRICS_PER_BATCH_MAX, points)
            batch = [Metric(name, wave(step), step, now) for step in range(first, last)]
            ws.store.log_batch(run_id, batch)
    return run_id


def wave(step: int) -> float:
    """Noise on a slow wave, with a spike every 100,003 steps that a chart must keep."""
    spike = 5.0 if step % 100_003 == 77 else 0.0
    return math.sin(step / 5_000) + 0.1 * math.sin(step * 12.9898) + spike
