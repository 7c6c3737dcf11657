"""Metric logging throughput: Modelyard's SDK beside MLflow 3.x, both into SQLite or PostgreSQL.

    .venv/bin/python benchmarks/tracking.py [--points 100000] [--one-by-one-points 2000]
                                            [--batch-size 1000] [--skip-mlflow]
                                            [--store-uri postgresql://postgres@127.0.0.1/test]

Modelyard: `run.log(...)` for every point of an interactive run in an embedded SQLite workspace,
then `run.flush()`; the clock stops when every point is in the database. MLflow: the same points
through `mlflow.log_metric` one by one (on fewer points: it is slow) and `MlflowClient().log_batch`
in batches, in a virtualenv of its own that this script creates under `benchmarks/.cache/` on its
first run, so Modelyard's environment stays free of MLflow. With `--store-uri` (a PostgreSQL
database), each side logs into an empty schema of its own there, dropped afterwards. A
benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _mlflow_env import (
    HERE,
    MLFLOW_VENV,
    MlflowUnavailable,
    ensure_mlflow_venv,
    run_side,
)
from _postgres import (
    PostgresUnavailable,
    fresh_schemas,
    is_postgres,
    server_version,
    with_driver,
)

if TYPE_CHECKING:
    from modelyard import Run

METRIC = "loss"
TARGET_POINTS_PER_S = 100_000


@dataclass(frozen=True)
class Measurement:
    label: str
    points: int
    seconds: float
    stored: int

    @property
    def points_per_s(self) -> float:
        return self.points / self.seconds


# Arguments --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Metric logging throughput: Modelyard vs MLflow 3.x on SQLite or PostgreSQL."
    )
    parser.add_argument("--points", type=int, default=100_000, help="default: %(default)s")
    parser.add_argument(
        "--one-by-one-points",
        type=int,
        default=2_000,
        help="points for MLflow's slow one-by-one log_metric mode (default: %(default)s)",
    )
    parser.add_argument("--batch-size", type=int, default=1_000, help="MLflow log_batch size")
    parser.add_argument("--skip-mlflow", action="store_true", help="measure Modelyard only")
    parser.add_argument(
        "--store-uri",
        help="a PostgreSQL database (postgresql://USER@HOST:PORT/DB) instead of SQLite files:"
        " each side in a schema of its own there, dropped afterwards",
    )
    parser.add_argument(
        "--install-timeout", type=float, default=900, help="seconds for installing MLflow"
    )
    parser.add_argument(
        "--mlflow-timeout", type=float, default=600, help="seconds for MLflow's measurement"
    )
    args = parser.parse_args(argv)
    if args.store_uri and not is_postgres(args.store_uri):
        parser.error(
            f"--store-uri {args.store_uri!r} is not a PostgreSQL URI:"
            " give postgresql://USER@HOST:PORT/DB, or leave it out for SQLite"
        )
    return args


# Modelyard --------------------------------------------------------------------------------------


def measure_modelyard(points: int, scratch: Path, store_uri: str | None) -> Measurement:
    # Before importing Modelyard: the user's registry of workspaces is left alone.
    os.environ["MODELYARD_HOME"] = str(scratch / "modelyard-home")
    from modelyard import Experiment, Workspace

    ws = Workspace.create("bench-ws", path=scratch / "ws", store_uri=store_uri)
    try:
        run = Experiment(ws, "bench").start_logging()
        seconds = log_points(run, points)
        stored = len(ws._opened.store.get_metric_history(run.id, METRIC))
        run.complete()
    finally:
        ws.close()
    return Measurement("Modelyard run.log + flush", points, seconds, stored)


def log_points(run: Run, points: int) -> float:
    start = time.perf_counter()
    for i in range(points):
        run.log(METRIC, float(i), step=i)
    run.flush()
    return time.perf_counter() - start


# MLflow: the measurement ------------------------------------------------------------------------


def measure_mlflow(
    python: Path, args: argparse.Namespace, scratch: Path, tracking_uri: str
) -> tuple[str, list[Measurement]]:
    """MLflow's version and its two modes, measured by `_mlflow_side.py` in its virtualenv."""
    command = [
        str(python),
        str(HERE / "_mlflow_side.py"),
        f"--tracking-uri={tracking_uri}",
        f"--points={args.points}",
        f"--one-by-one-points={args.one_by_one_points}",
        f"--batch-size={args.batch_size}",
    ]
    result = run_side(command, args.mlflow_timeout, scratch)
    return result["mlflow_version"], [
        mlflow_measurement("MLflow log_metric, one by one", result["log_metric"]),
        mlflow_measurement(f"MLflow log_batch of {args.batch_size:,}", result["log_batch"]),
    ]


def mlflow_measurement(label: str, mode: dict[str, Any]) -> Measurement:
    return Measurement(label, int(mode["points"]), float(mode["seconds"]), int(mode["stored"]))


# Report -----------------------------------------------------------------------------------------


def print_header(args: argparse.Namespace) -> None:
    backend = "PostgreSQL, a schema for each side" if args.store_uri else "SQLite"
    print(f"Metric logging throughput (one metric, float values, explicit steps; {backend})")
    database = (
        f"PostgreSQL {server_version(args.store_uri)}"
        if args.store_uri
        else f"SQLite {sqlite3.sqlite_version}"
    )
    print(
        f"python {platform.python_version()}, {database},"
        f" {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}"
    )
    print(f"points: {args.points:,}")


def print_table(modelyard: Measurement, others: list[Measurement]) -> None:
    print()
    print(f"{'mode':<34}{'points':>10}{'seconds':>10}{'points/s':>12}{'Modelyard ÷':>14}")
    for row in [modelyard, *others]:
        ratio = "" if row is modelyard else f"{modelyard.points_per_s / row.points_per_s:,.1f}×"
        print(
            f"{row.label:<34}{row.points:>10,}{row.seconds:>10.3f}"
            f"{row.points_per_s:>12,.0f}{ratio:>14}"
        )
    print()


def print_verdicts(modelyard: Measurement, others: list[Measurement]) -> bool:
    """Print the stored counts and the target; False when a store lost points."""
    complete = True
    for row in [modelyard, *others]:
        ok = row.stored == row.points
        complete = complete and ok
        print(f"stored: {row.stored:,} of {row.points:,} points ({row.label}){'' if ok else ' !!'}")
    met = modelyard.points_per_s >= TARGET_POINTS_PER_S
    print(
        f"target ≥ {TARGET_POINTS_PER_S:,} points/s for Modelyard:"
        f" {'met' if met else 'NOT met'} ({modelyard.points_per_s:,.0f})"
    )
    return complete


def measure_all(args: argparse.Namespace) -> tuple[Measurement, str, list[Measurement], str]:
    """Modelyard's measurement, MLflow's version and measurements, and why MLflow failed."""
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-") as tmp:
        scratch = Path(tmp)
        if not args.store_uri:
            return measure_both(args, scratch, None, f"sqlite:///{scratch / 'mlflow.db'}")
        with fresh_schemas(args.store_uri, "bench_modelyard", "bench_mlflow") as uris:
            # SQLAlchemy 2.1 opens `postgresql://` with psycopg 3; MLflow's virtualenv has psycopg2.
            mlflow_uri = with_driver(uris[1], "postgresql+psycopg2")
            return measure_both(args, scratch, uris[0], mlflow_uri)


def measure_both(
    args: argparse.Namespace, scratch: Path, modelyard_uri: str | None, mlflow_uri: str
) -> tuple[Measurement, str, list[Measurement], str]:
    modelyard = measure_modelyard(args.points, scratch, modelyard_uri)
    if args.skip_mlflow:
        return modelyard, "", [], ""
    try:
        python = ensure_mlflow_venv(args.install_timeout, postgres=bool(args.store_uri))
        mlflow_version, others = measure_mlflow(python, args, scratch, mlflow_uri)
    except MlflowUnavailable as error:
        return modelyard, "", [], str(error)
    return modelyard, mlflow_version, others, ""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        modelyard, mlflow_version, others, failure = measure_all(args)
    except PostgresUnavailable as error:
        print(f"Nothing was measured: {error}")
        return 1
    print_header(args)
    if mlflow_version:
        print(f"MLflow {mlflow_version} (own virtualenv, {MLFLOW_VENV.relative_to(HERE.parent)})")
        print(
            f"MLflow log_metric is slow, so it logs only {args.one_by_one_points:,} points;"
            " points/s compares directly."
        )
    print_table(modelyard, others)
    complete = print_verdicts(modelyard, others)
    if failure:
        print(f"\nMLflow was not measured: {failure}")
    return 0 if complete and not failure else 1


if __name__ == "__main__":
    sys.exit(main())
