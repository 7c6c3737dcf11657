"""`modelyard server` under load, beside an MLflow 3.x tracking server on the same machine.

    .venv/bin/python benchmarks/server.py [--runs 10000] [--points 1000000]
                                          [--log-points 100000] [--skip-mlflow]

Starts a real `modelyard server` (auth on, the admin token it prints) on 127.0.0.1 over a
temporary workspace and measures, through HTTP as the portal and `RestStore` use it:

- the runs list (`GET /api/v1/runs-query`) of an experiment of `--runs` runs sorted and filtered
  by a metric's latest value: ms per page of 50, first, second, deep and last pages;
- a `--points`-point metric series thinned to ≤ 2,000 points (`GET .../metric-series`);
- remote logging through `RestStore.log_batch`, in batches of 1,000 and one point at a time.

Beside it, an `mlflow server` on SQLite seeded with the same sizes (`--runs` runs, a
`--points`-point series), the same kinds of calls over HTTP (`runs/search` sorted by
`metrics.x DESC`; `metrics/get-history-bulk-interval`, which samples the series to 2,000 points
as MLflow's chart does) and through `MlflowClient` (`log_batch`, `log_metric`), from the MLflow
virtualenv that `tracking.py` also uses (see `_mlflow_env.py`), with the same warm-up and
repeats. A benchmark, not a test: timings are printed, never asserted; the answers are checked.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from _mlflow_env import HERE, MLFLOW_VENV, MlflowUnavailable, ensure_mlflow_venv, run_side
from _modelyard_seed import EXPERIMENT, METRIC, seed_runs, seed_series
from _postgres import fresh_schemas, is_postgres
from _report import Result, print_rows
from _servers import (
    API,
    BenchmarkFailed,
    exit_on_sigterm,
    mlflow_server,
    modelyard_server,
)

if TYPE_CHECKING:
    from modelyard.services.workspaces import OpenWorkspace

PAGE = 50
TARGET_PAGE_MS = 100
TARGET_SERIES_MS = 200
TARGET_REMOTE_POINTS_PER_S = 50_000
TARGET_RSS_AFTER_LOAD_MIB = 300  # issue 11: after 12 rounds of 200 concurrent requests...
TARGET_RSS_IDLE_MIB = 200  # ...and back under this once idle
TARGET_GUARD_PERCENT = 5  # the checks every request now passes, as a share of its time
SERIES_MAX_POINTS = 2_000
TARGET_RUNS = 100_000  # the size the runs list's target is set at
TARGET_SERIES_POINTS = 1_000_000  # and the series'
# The runs list at both sides' size by default. MLflow's `search_runs` sorted by a metric takes
# ~3 s at 10,000 runs here and did not answer within 8 minutes at 100,000, so a comparison at
# Modelyard's target size is not possible; `--skip-mlflow` measures that size alone.
RUNS_WITH_MLFLOW = 10_000


# Arguments --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="modelyard server vs mlflow server under load.")
    add = parser.add_argument
    add(
        "--runs",
        type=int,
        help="runs in the listed experiment, on both sides (default:"
        f" {RUNS_WITH_MLFLOW:,}; {TARGET_RUNS:,} with --skip-mlflow)",
    )
    add("--points", type=int, default=1_000_000, help="points of the charted series")
    add("--log-points", type=int, default=100_000, help="points logged in batches of 1,000")
    add("--one-by-one-points", type=int, default=200, help="points logged one at a time")
    add("--repeats", type=int, default=5, help="requests per page or series, after one unmeasured")
    add(
        "--store-uri",
        help="a PostgreSQL database for Modelyard, measured in a fresh schema (default: SQLite)",
    )
    add("--mlflow-log-points", type=int, default=20_000, help="MLflow log_batch points")
    add("--skip-mlflow", action="store_true", help="measure Modelyard only")
    add("--load-rounds", type=int, default=12, help="rounds of concurrent reads for memory")
    add("--load-concurrency", type=int, default=200, help="concurrent reads per round")
    add("--idle-s", type=float, default=10, help="seconds idle before the last RSS reading")
    add("--server-timeout", type=float, default=120, help="seconds for a server to start")
    add("--request-timeout", type=float, default=120, help="seconds for one HTTP request")
    add("--install-timeout", type=float, default=900, help="seconds for installing MLflow")
    add("--mlflow-timeout", type=float, default=1800, help="seconds per MLflow side step")
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = TARGET_RUNS if args.skip_mlflow else RUNS_WITH_MLFLOW
    if min(args.runs, args.points, args.log_points, args.one_by_one_points, args.repeats) < 1:
        parser.error("--runs, --points, --log-points, --one-by-one-points and --repeats: ≥ 1")
    return args


@dataclass(frozen=True)
class Page:
    label: str
    params: dict[str, Any]
    total: int  # runs matching, on all pages
    valued: int  # of them, runs with a value of x: listed first when sorting by x
    mlflow_key: str = ""  # the MLflow timing it is shown beside

    @property
    def offset(self) -> int:
        return int(self.params.get("offset", 0))

    @property
    def descending(self) -> bool | None:
        """The order of x on the page when sorted by x; None when sorted by creation."""
        if "sort" not in self.params:
            return None
        return bool(self.params["order"] == "desc")


def pages_to_time(runs: int, seeded: tuple[int, int]) -> list[Page]:
    with_value, above_half = seeded
    by_x = {"experiment": EXPERIMENT, "sort": f"metric:{METRIC}", "limit": PAGE}
    above = {**by_x, "metric": f"{METRIC}>0.5"}
    newest = {"experiment": EXPERIMENT, "metric": f"{METRIC}>0.5", "limit": PAGE}

    def page(
        label: str, params: dict[str, Any], offset: int = 0, key: str = "", order: str = "desc"
    ) -> Page:
        total, valued = (runs, with_value) if params is by_x else (above_half, above_half)
        return Page(label, {**params, "offset": offset, "order": order}, total, valued, key)

    return [
        page("sorted by x, page 1", by_x, key="sorted.first"),
        page("sorted by x, page 2", by_x, PAGE, key="sorted.second"),
        page("sorted by x, page at 1,000", by_x, 1_000),
        page("sorted by x, middle page", by_x, runs // 2),
        page("sorted by x, last page", by_x, max(0, runs - PAGE)),
        page("sorted by x ascending, page 1", by_x, order="asc"),
        page("x > 0.5, sorted by x, page 1", above, key="filtered.first"),
        page("x > 0.5, sorted by x, page 2", above, PAGE, key="filtered.second"),
        page("x > 0.5, newest first, page 1", newest),
        page("x > 0.5, newest first, last page", newest, max(0, above_half - PAGE)),
    ]


def time_page(client: httpx.Client, page: Page, repeats: int) -> tuple[float, float]:
    """(median, worst) ms of `repeats` requests, after one unmeasured warm-up; each checked."""
    seconds = []
    for attempt in range(repeats + 1):
        start = time.perf_counter()
        answer = client.get(f"{API}/runs-query", params=page.params)
        elapsed = time.perf_counter() - start
        check_page(page, answer)
        if attempt:
            seconds.append(elapsed)
    return statistics.median(seconds) * 1000, max(seconds) * 1000


def check_page(page: Page, answer: httpx.Response) -> None:
    """The total, the page's length, runs with x before those without, x in order, the filter."""
    if answer.status_code != 200:
        raise BenchmarkFailed(f"runs-query ({page.label}) answered {answer.status_code}")
    body = answer.json()
    rows = min(PAGE, page.total - page.offset)
    values = [run["metrics"].get(METRIC) for run in body["runs"]]
    present = [value for value in values if value is not None]
    valued = min(rows, max(0, page.valued - page.offset))
    wrong = [
        body["total"] != page.total,
        len(values) != rows,
        values[:valued] != present,
        page.descending is not None and present != sorted(present, reverse=page.descending),
        "metric" in page.params and any(value is None or value <= 0.5 for value in values),
    ]
    if any(wrong):
        raise BenchmarkFailed(
            f"runs-query ({page.label}) answered a wrong page: total {body['total']}"
            f" (expected {page.total}), {len(values)} runs, {len(present)} with {METRIC}"
        )


def time_series(client: httpx.Client, run_id: str, points: int, repeats: int) -> list[Result]:
    """The chart's request for the whole series, then the poll that finds nothing new."""
    path = f"{API}/runs/{run_id}/metric-series"
    params: dict[str, Any] = {"name": METRIC, "max_points": SERIES_MAX_POINTS}
    full, polls, version, returned = [], [], "", 0
    for attempt in range(repeats + 1):
        start = time.perf_counter()
        body = client.get(path, params=params).raise_for_status().json()
        if attempt:
            full.append(time.perf_counter() - start)
        series = body["series"][METRIC]
        returned = len(series["points"])
        if series["count"] != points or not 0 < returned <= SERIES_MAX_POINTS:
            raise BenchmarkFailed(f"metric-series answered {returned} points")
        version = body["version"]
    for _ in range(repeats):
        start = time.perf_counter()
        body = client.get(path, params={**params, "version": version}).raise_for_status().json()
        polls.append(time.perf_counter() - start)
        if body["changed"]:
            raise BenchmarkFailed("metric-series said a finished series changed")
    label = f"{points:,}-point series → {returned:,} points"
    size_note = "" if points == TARGET_SERIES_POINTS else f" at {points:,} points"
    return [
        Result(
            label,
            ms(full),
            target=TARGET_SERIES_MS,
            worst=max(full) * 1000,
            mlflow_key="chart",
            size_note=size_note,
        ),
        Result("the same, polled: nothing new", ms(polls), worst=max(polls) * 1000),
    ]


def ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def time_remote_logging(
    ws: OpenWorkspace, server_pid: int, url: str, token: str, points: int, batch_size: int
) -> tuple[float, float]:
    """Points/s through `RestStore.log_batch`, building the Metric objects inside the timing,
    and the server process's CPU ms per call (all its threads; not the database's processes):
    under load the rate follows the machine, the CPU much less."""
    import psutil

    from modelyard.entities import Metric
    from modelyard.store.rest import RestStore

    server = psutil.Process(server_pid)
    remote = RestStore(url, token)
    try:
        run_id = remote.create_run(f"{EXPERIMENT}-remote", user="bench").id
        cpu_before, start = sum(server.cpu_times()[:2]), time.perf_counter()
        for first in range(0, points, batch_size):
            now, last = time.time(), min(first + batch_size, points)
            remote.log_batch(run_id, [Metric("y", float(i), i, now) for i in range(first, last)])
        seconds = time.perf_counter() - start
        cpu_s = sum(server.cpu_times()[:2]) - cpu_before
    finally:
        remote.close()
    stored = len(ws.store.get_metric_history(run_id, "y"))
    if stored != points:
        raise BenchmarkFailed(f"RestStore.log_batch stored {stored:,} of {points:,} points")
    calls = -(-points // batch_size)
    return points / seconds, cpu_s * 1000 / calls


def measure_modelyard(args: argparse.Namespace, scratch: Path) -> tuple[list[Result], str]:
    """Modelyard's rows of the table, and a line on what was seeded."""
    # Before importing Modelyard: the user's registry of workspaces is left alone.
    os.environ["MODELYARD_HOME"] = str(scratch / "modelyard-home")
    from modelyard.services.workspaces import create_workspace

    with _empty_store(args.store_uri) as store_uri:
        ws = create_workspace("bench-ws", path=scratch / "ws", store_uri=store_uri)
        try:
            return _seed_and_measure(args, ws, scratch)
        finally:
            ws.close()


@contextmanager
def _empty_store(store_uri: str | None) -> Iterator[str | None]:
    """A PostgreSQL database measured in a fresh schema of its own, dropped afterwards: the
    tables are neither mixed with what is there nor left behind."""
    if store_uri is None or not is_postgres(store_uri):
        yield store_uri
        return
    with fresh_schemas(store_uri, "bench_server") as (uri,):
        yield uri


def _seed_and_measure(
    args: argparse.Namespace, ws: OpenWorkspace, scratch: Path
) -> tuple[list[Result], str]:
    start = time.perf_counter()
    seeded = seed_runs(ws, args.runs)
    series_run_id = seed_series(ws, args.points)
    if is_postgres(ws.store.uri):
        vacuum_analyze(ws.store.uri)
    note = f"seeded {args.runs:,} runs and a {args.points:,}-point series in"
    note += f" {time.perf_counter() - start:.0f} s ({ws.store.uri.split(':')[0]})"
    return measure_served(args, ws, scratch, seeded, series_run_id), note


def vacuum_analyze(store_uri: str) -> None:
    """The seeded tables settled as on a server that has run a while: otherwise autovacuum
    and a checkpoint wake up on the million fresh points in the middle of the measurements."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(store_uri).set(drivername="postgresql+psycopg")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
            connection.execute(text(f"VACUUM (ANALYZE) {', '.join(tables)}"))
            connection.execute(text("CHECKPOINT"))  # the seeding's writes flushed beforehand
    finally:
        engine.dispose()


def measure_served(
    args: argparse.Namespace,
    ws: OpenWorkspace,
    scratch: Path,
    seeded: tuple[int, int],
    series_run_id: str,
) -> list[Result]:
    with modelyard_server(ws.root, scratch, args.server_timeout) as server:
        url, token, headers = server.url, server.token, server.headers
        with httpx.Client(base_url=url, headers=headers, timeout=args.request_timeout) as client:
            results = []
            size_note = "" if args.runs == TARGET_RUNS else f" at {args.runs:,} runs"
            for page in pages_to_time(args.runs, seeded):
                median, worst = time_page(client, page, args.repeats)
                label = f"runs list: {page.label}"
                results.append(
                    Result(
                        label,
                        median,
                        target=TARGET_PAGE_MS,
                        worst=worst,
                        mlflow_key=page.mlflow_key,
                        size_note=size_note,
                    )
                )
            results += time_series(client, series_run_id, args.points, args.repeats)
        pid = server.process.pid
        batched, batch_cpu_ms = time_remote_logging(ws, pid, url, token, args.log_points, 1_000)
        single, _ = time_remote_logging(ws, pid, url, token, args.one_by_one_points, 1)
        memory = measure_memory(server.process.pid, url, headers, series_run_id, args)
        guard = measure_guard_cost(url, headers, args.repeats)
    return [
        *results,
        *memory,
        guard,
        Result("remote log_batch of 1,000, points/s", batched, unit="points/s",
               target=TARGET_REMOTE_POINTS_PER_S, mlflow_key="log_batch"),
        Result("  the server's CPU per log_batch of 1,000, ms", batch_cpu_ms),
        Result("remote, one point per call, points/s", single, unit="points/s",
               mlflow_key="log_metric"),
    ]  # fmt: skip


# Memory under load (issue 11, point 10) ---------------------------------------------------------


def measure_memory(
    pid: int, url: str, headers: dict[str, str], series_run_id: str, args: argparse.Namespace
) -> list[Result]:
    """The server's RSS idle, after `--load-rounds` rounds of `--load-concurrency` concurrent
    reads (the review's 12 × 200), and idle again `--idle-s` seconds later."""
    import psutil

    server = psutil.Process(pid)

    def rss_mib() -> float:
        return float(server.memory_info().rss) / 2**20

    paths = load_paths(url, headers, series_run_id)
    idle = rss_mib()
    peak = idle
    for _ in range(args.load_rounds):
        statuses = asyncio.run(load_round(url, headers, paths, args))
        if any(status != 200 for status in statuses):
            raise BenchmarkFailed(f"the load got answers other than 200: {set(statuses)}")
        peak = max(peak, rss_mib())
    after = rss_mib()
    time.sleep(args.idle_s)
    again = rss_mib()
    rounds = f"{args.load_rounds} × {args.load_concurrency}"
    return [
        Result("server RSS idle, MiB", idle, unit="MiB"),
        Result(f"server RSS after {rounds} requests, MiB", after, unit="MiB",
               target=TARGET_RSS_AFTER_LOAD_MIB, worst=peak),
        Result(f"server RSS idle {args.idle_s:g} s later, MiB", again, unit="MiB",
               target=TARGET_RSS_IDLE_MIB),
    ]  # fmt: skip


def measure_guard_cost(url: str, headers: dict[str, str], repeats: int) -> Result:
    """What the request guard's own checks (request line, host, origin, content type; the token
    was checked before it too) add to a request, as a share of the median request here."""
    from starlette.datastructures import Headers

    from modelyard.server import guard

    host = url.removeprefix("http://")
    with httpx.Client(base_url=url, headers=headers) as client:
        seconds = []
        for _ in range(max(repeats, 1) * 100):
            start = time.perf_counter()
            client.get(f"{API}/experiments/{EXPERIMENT}")
            seconds.append(time.perf_counter() - start)
    request_s = statistics.median(seconds)
    scope = {"type": "http", "method": "POST", "path": f"{API}/runs/x/batch",
             "raw_path": f"{API}/runs/x/batch".encode(),
             "headers": [(b"host", host.encode()), (b"content-type", b"application/json"),
                         (b"origin", f"http://{host}".encode())]}  # fmt: skip
    allowed = guard.allowed_host_names("127.0.0.1", "")
    rounds = 20_000
    start = time.perf_counter()
    for _ in range(rounds):
        request_headers = Headers(scope=scope)
        guard.check_request_line(scope)
        guard.check_host(request_headers.get("host", ""), allowed)
        guard.check_not_cross_site(request_headers)
        guard.check_media_type(guard.body_media_type(request_headers) or "", api=True)
    checks_s = (time.perf_counter() - start) / rounds
    return Result(
        f"request guard's checks, % of a {request_s * 1000:.2f} ms request",
        100 * checks_s / request_s,
        unit="%",
        target=TARGET_GUARD_PERCENT,
    )


def load_paths(url: str, headers: dict[str, str], series_run_id: str) -> list[str]:
    """What a team's portals and clients read: runs pages, a run's details and chart, a long
    runs list (1,000 runs of JSON), the workspace."""
    page = httpx.get(f"{url}{API}/runs-query", params={"experiment": EXPERIMENT}, headers=headers)
    run_ids = [run["id"] for run in page.json()["runs"][:5]]
    return [
        f"{API}/runs-query?experiment={EXPERIMENT}&sort=metric:{METRIC}&limit=50",
        f"{API}/runs-query?experiment={EXPERIMENT}&offset=500&limit=50",
        *(f"{API}/runs/{run_id}/details" for run_id in run_ids),
        f"{API}/runs/{series_run_id}/metric-series",
        f"{API}/runs?experiment={EXPERIMENT}&limit=1000",
        f"{API}/workspace",
        f"{API}/experiments",
    ]


async def load_round(
    url: str, headers: dict[str, str], paths: list[str], args: argparse.Namespace
) -> list[int]:
    limits = httpx.Limits(max_connections=args.load_concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=args.request_timeout, limits=limits
    ) as client:
        answers = await asyncio.gather(
            *(client.get(paths[index % len(paths)]) for index in range(args.load_concurrency))
        )
    return [answer.status_code for answer in answers]


# MLflow -----------------------------------------------------------------------------------------


def measure_mlflow(args: argparse.Namespace, scratch: Path) -> tuple[str, dict[str, Any]]:
    """MLflow's version and timings: seed a store, serve it, measure through the server."""
    python = ensure_mlflow_venv(args.install_timeout)
    side = [str(python), str(HERE / "_mlflow_server_side.py")]
    db, artifacts = scratch / "mlflow.db", scratch / "mlartifacts"
    seeded = run_side(
        [*side, "seed", f"--db={db}", f"--artifacts={artifacts}", f"--runs={args.runs}",
         f"--history-points={args.points}"],
        args.mlflow_timeout, scratch,
    )  # fmt: skip
    with mlflow_server(python, db, artifacts, scratch, args.server_timeout) as url:
        timings = run_side(
            [*side, "measure", f"--url={url}", f"--experiment-id={seeded['experiment_id']}",
             f"--history-run-id={seeded['history_run_id']}", f"--runs={args.runs}",
             f"--with-value-above-half={seeded['with_value_above_half']}",
             f"--history-points={args.points}", f"--max-points={SERIES_MAX_POINTS}",
             f"--log-points={args.mlflow_log_points}",
             f"--one-by-one-points={args.one_by_one_points}", "--batch-size=1000",
             f"--repeats={args.repeats}"],
            args.mlflow_timeout, scratch,
        )  # fmt: skip
    return str(seeded["mlflow_version"]), timings


def beside_mlflow(results: list[Result], mlflow: dict[str, Any]) -> list[Result]:
    """Modelyard's rows with MLflow's matching numbers (median, worst) filled in."""
    lookup: dict[str, tuple[float, float | None]] = {
        "sorted.first": worst_too(mlflow["search_sorted"]["first"]),
        "sorted.second": worst_too(mlflow["search_sorted"]["second"]),
        "filtered.first": worst_too(mlflow["search_filtered"]["first"]),
        "filtered.second": worst_too(mlflow["search_filtered"]["second"]),
        "chart": worst_too(mlflow["chart"]),
        "log_batch": (rate(mlflow["log_batch"]), None),
        "log_metric": (rate(mlflow["log_metric"]), None),
    }
    return [
        replace(result, mlflow=found[0], mlflow_worst=found[1])
        if (found := lookup.get(result.mlflow_key))
        else result
        for result in results
    ]


def worst_too(timing: dict[str, Any]) -> tuple[float, float | None]:
    return float(timing["median_ms"]), float(timing["max_ms"])


def rate(mode: dict[str, Any]) -> float:
    if mode["stored"] != mode["points"]:
        raise BenchmarkFailed(f"MLflow stored {mode['stored']:,} of {mode['points']:,} points")
    return float(mode["points"]) / float(mode["seconds"])


# Report -----------------------------------------------------------------------------------------


def print_header(
    args: argparse.Namespace, seeded_note: str, mlflow_version: str, chart_points: int
) -> None:
    print("modelyard server vs mlflow server, both on 127.0.0.1 over HTTP")
    print(
        f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version},"
        f" {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}"
    )
    print(f"Modelyard: {seeded_note}")
    if mlflow_version:
        print(
            f"MLflow {mlflow_version} ({MLFLOW_VENV.relative_to(HERE.parent)}), SQLite: the same"
            f" {args.runs:,} runs and {args.points:,}-point series; its chart route"
            f" (get-history-bulk-interval, max_results={SERIES_MAX_POINTS:,}) returned"
            f" {chart_points:,} points; log_batch of {args.mlflow_log_points:,} points"
        )


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    both = "" if args.skip_mlflow else ", the same on both sides"
    print(
        f"Times in ms per request: the median of {args.repeats} after one unmeasured request"
        f" (the worst in brackets){both}; rates in points/s."
    )
    print()
    print_rows(results)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    mlflow_version, failure, chart_points = "", "", 0
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-server-") as tmp:
        scratch = Path(tmp)
        try:
            results, seeded_note = measure_modelyard(args, scratch)
        except (BenchmarkFailed, httpx.HTTPError) as error:
            print(f"Modelyard could not be measured: {error}")
            return 1
        if not args.skip_mlflow:
            try:
                mlflow_version, timings = measure_mlflow(args, scratch)
                results = beside_mlflow(results, timings)
                chart_points = int(timings["chart"]["points"])
            except (MlflowUnavailable, BenchmarkFailed) as error:
                failure = str(error)
    print_header(args, seeded_note, mlflow_version, chart_points)
    print_table(results, args)
    if failure:
        print(f"MLflow was not measured: {failure}")
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
