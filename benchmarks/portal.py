"""The portal's single-page app in headless Chromium, beside the MLflow UI on the same data.

    .venv/bin/python benchmarks/portal.py [--runs 10000] [--repeats 5] [--skip-mlflow]
    .venv/bin/python benchmarks/portal.py --runs 100000      # the size the issue sets

Starts a real `modelyard server` (auth on) over a temporary workspace seeded as `server.py`
seeds it (`--runs` runs in experiment `bench`, by bulk SQL inserts), plus a run of its own with
10 series of 2,000 points, and measures in Debian's headless Chromium through Playwright:

- the runs table: from the start of the navigation to `/app/runs?experiment=bench` (logged in)
  to the first frame in which its first rows are in the page;
- the run page of the 10-series run: from the navigation's start to the frame in which all 10
  charts' canvases are;
- each with a cold browser cache (a fresh browser profile per load) and a warm one (the same
  profile, reloaded), the median of `--repeats` after one unmeasured load;
- the gzipped size (level 9) of the JavaScript the built app loads first (the entry script and
  its modulepreload links in its index.html; target ≤ 300 KB) and of its lazy chunks.

Beside it, MLflow 3.x's own UI served by `mlflow server` (from the benchmarks' MLflow
virtualenv, see `_mlflow_env.py`) over a SQLite store seeded by `_mlflow_server_side.py` with the
same runs and series: its experiment page's runs table (first row) and the run's Model metrics
tab (all 10 charts drawn), measured the same way, and the size of its UI's initial JavaScript.
A benchmark, not a test: timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import signal
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from _mlflow_env import HERE, MLFLOW_VENV, MlflowUnavailable, ensure_mlflow_venv, run_side
from _modelyard_seed import EXPERIMENT, METRIC, seed_runs, seed_series
from _report import Result, print_rows
from _servers import BenchmarkFailed, exit_on_sigterm, mlflow_server, modelyard_server
from playwright.sync_api import Error as PlaywrightError

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ViewportSize

# What is waited for, one selector each, so that a change of the pages is one line here.
LOGIN_TOKEN = "#token"  # the login form's token field...
LOGIN_SUBMIT = "button[type=submit]"  # ...and its button
RUNS_ROW = "tbody tr[data-run-id]"  # a run's row in the runs table
RUN_CHART = ".uplot canvas"  # a drawn chart on the run page (uPlot draws on one canvas)
MLFLOW_RUNS_ROW = ".ag-center-cols-container .ag-row"  # a row of MLflow's runs table (AG Grid)
MLFLOW_RUN_CHART = ".js-plotly-plot .scatterlayer path.js-line"  # a Plotly chart's drawn line

RUNS_PATH = f"/app/runs?experiment={EXPERIMENT}"  # the runs MLflow's experiment page lists
LOGGED_IN_PATH = "/api/v1/workspace"  # where the login goes: a JSON answer, none of the app
SERIES = 10
SERIES_POINTS = 2_000
SERIES_NAMES = (METRIC, *(f"{METRIC}{index}" for index in range(1, SERIES)))
TARGET_RUNS = 100_000
TARGET_INITIAL_JS_KB = 300
ROWS_VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
# Tall enough that every chart is in view: MLflow draws a chart only once it is scrolled into
# view, which would make its run page never "all drawn" in a 900 px window.
CHARTS_VIEWPORT: ViewportSize = {"width": 1440, "height": 3200}
DIST = HERE.parent / "src" / "modelyard" / "server" / "spa" / "dist"

# Set on every new document before its own scripts run: on each animation frame, whether
# `count` elements matching `selector` have a layout box yet; the time of the first frame in
# which they do, in ms since the navigation started (performance.now()'s origin).
FIRST_FRAME_SCRIPT = """
(([selector, count]) => {
  const poll = () => {
    const found = [...document.querySelectorAll(selector)]
      .filter((element) => element.getClientRects().length > 0).length;
    if (found >= count) {
      window.__benchFirstFrameMs = performance.now();
      performance.mark("benchmark: first frame showing " + selector);  // for a DevTools trace
      return;
    }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
})(%s);
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The portal app vs the MLflow UI in Chromium.")
    add = parser.add_argument
    add("--runs", type=int, default=10_000, help=f"runs listed (the issue's: {TARGET_RUNS:,})")
    add("--repeats", type=int, default=5, help="loads per measurement, after one unmeasured")
    add("--skip-mlflow", action="store_true", help="measure Modelyard only")
    add("--screenshots", type=Path, help="a folder for a screenshot of each page as measured")
    add("--server-timeout", type=float, default=120, help="seconds for a server to start")
    add("--load-timeout", type=float, default=180, help="seconds for one page load")
    add("--install-timeout", type=float, default=900, help="seconds for installing MLflow")
    add("--mlflow-timeout", type=float, default=1800, help="seconds for seeding MLflow's store")
    args = parser.parse_args(argv)
    if min(args.runs, args.repeats) < 1:
        parser.error("--runs and --repeats: ≥ 1")
    return args


# The browser ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A web UI to load: where it is, how to log in to it, and what its pages wait for."""

    name: str
    url: str
    runs_path: str
    runs_row: str
    run_path: str
    run_chart: str
    log_in: Callable[[BrowserContext], None]


@dataclass(frozen=True)
class Loads:
    """First-render times of one page, ms: each a fresh profile (cold), then one reused (warm)."""

    cold: list[float]
    warm: list[float]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's headless Chromium, found as the browser tests find it."""
    from playwright.sync_api import sync_playwright

    from chromium_binary import chromium_executable

    executable = chromium_executable()
    if executable is None:
        raise BenchmarkFailed("no Chromium: `make test` installs chromium-headless-shell (apt-get)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def time_page(
    browser: Browser,
    site: Site,
    path: str,
    selector: str,
    count: int,
    viewport: ViewportSize,
    args: argparse.Namespace,
) -> Loads:
    """Cold loads (each in a fresh profile, after one unmeasured load that warms the servers),
    then warm ones (one profile: one unmeasured load fills its cache)."""

    def profile() -> BrowserContext:
        context = browser.new_context(base_url=site.url, viewport=viewport)
        context.set_default_timeout(args.load_timeout * 1000)
        context.add_init_script(FIRST_FRAME_SCRIPT % json.dumps([selector, count]))
        site.log_in(context)
        return context

    cold = []
    for attempt in range(args.repeats + 1):
        with closing(profile()) as context:
            elapsed = first_frame_ms(context, path)
        if attempt:
            cold.append(elapsed)
    with closing(profile()) as context:
        warm = [first_frame_ms(context, path) for _ in range(args.repeats + 1)][1:]
        if args.screenshots:
            args.screenshots.mkdir(parents=True, exist_ok=True)
            shot = args.screenshots / f"{site.name}-{'runs' if path == site.runs_path else 'run'}"
            context.pages[0].screenshot(path=f"{shot}.png")
    return Loads(cold, warm)


@contextmanager
def closing(context: BrowserContext) -> Iterator[BrowserContext]:
    try:
        yield context
    finally:
        context.close()


def first_frame_ms(context: BrowserContext, path: str) -> float:
    """A new document at `path` (from a blank page: a hash route would otherwise be a
    same-document navigation), and the ms to the frame its selector found its count in."""
    page = context.pages[0] if context.pages else context.new_page()
    page.goto("about:blank")
    page.goto(path, wait_until="commit")
    page.wait_for_function("() => window.__benchFirstFrameMs !== undefined", polling=100)
    return float(page.evaluate("() => window.__benchFirstFrameMs"))


def time_site(browser: Browser, site: Site, args: argparse.Namespace) -> dict[str, Loads]:
    """The runs table (its first row) and the run page (all its charts)."""
    return {
        "runs": time_page(browser, site, site.runs_path, site.runs_row, 1, ROWS_VIEWPORT, args),
        "run": time_page(
            browser, site, site.run_path, site.run_chart, SERIES, CHARTS_VIEWPORT, args
        ),
    }


# Modelyard --------------------------------------------------------------------------------------


def modelyard_login(token: str) -> Callable[[BrowserContext], None]:
    """The portal's login form, as a user fills it; it leads to a JSON route, not the app, so
    that nothing of the app is in the profile's cache before the measured load."""

    def log_in(context: BrowserContext) -> None:
        page = context.new_page()
        page.goto(f"/login?next={LOGGED_IN_PATH}")
        page.fill(LOGIN_TOKEN, token)
        page.click(LOGIN_SUBMIT)
        page.wait_for_url(f"**{LOGGED_IN_PATH}")

    return log_in


def measure_modelyard(
    args: argparse.Namespace, scratch: Path, browser: Browser
) -> tuple[dict[str, Loads], str]:
    """Modelyard's load times, and a line on what was seeded."""
    from modelyard.entities import RunStatus
    from modelyard.services.workspaces import create_workspace

    ws = create_workspace("bench-ws", path=scratch / "ws")
    try:
        seed_runs(ws, args.runs)
        series_run_id = seed_series(ws, SERIES_POINTS, SERIES_NAMES)
        # Ended, as MLflow's is: the page of a live run would also poll for new points.
        for status in (RunStatus.RUNNING, RunStatus.COMPLETED):
            ws.store.transition_run(series_run_id, status)
    finally:
        ws.close()
    with modelyard_server(ws.root, scratch, args.server_timeout) as server:
        site = Site(
            "modelyard",
            server.url,
            RUNS_PATH,
            RUNS_ROW,
            f"/app/runs/{series_run_id}",
            RUN_CHART,
            modelyard_login(server.token),
        )
        loads = time_site(browser, site, args)
    seeded = f"{args.runs:,} runs in `{EXPERIMENT}`; a run of {SERIES} series × {SERIES_POINTS:,}"
    return loads, f"{seeded} points"


# MLflow -----------------------------------------------------------------------------------------


def measure_mlflow(
    args: argparse.Namespace, scratch: Path, browser: Browser
) -> tuple[str, dict[str, Loads], Path]:
    """MLflow's version, load times and UI build: seed a store, serve it, load its pages."""
    python = ensure_mlflow_venv(args.install_timeout)
    db, artifacts = scratch / "mlflow.db", scratch / "mlartifacts"
    seeded = run_side(
        [str(python), str(HERE / "_mlflow_server_side.py"), "seed", f"--db={db}",
         f"--artifacts={artifacts}", f"--runs={args.runs}", f"--history-points={SERIES_POINTS}",
         f"--history-metrics={','.join(SERIES_NAMES)}", "--run-name-tags"],
        args.mlflow_timeout, scratch,
    )  # fmt: skip
    runs_path = f"/#/experiments/{seeded['experiment_id']}/runs"
    run_path = (
        f"/#/experiments/{seeded['history_experiment_id']}/runs/{seeded['history_run_id']}"
        "/model-metrics"
    )
    with mlflow_server(python, db, artifacts, scratch, args.server_timeout) as url:
        no_login = lambda _context: None  # noqa: E731  (MLflow's server has no auth by default)
        site = Site("mlflow", url, runs_path, MLFLOW_RUNS_ROW, run_path, MLFLOW_RUN_CHART, no_login)
        loads = time_site(browser, site, args)
    return str(seeded["mlflow_version"]), loads, mlflow_ui_build(python)


def mlflow_ui_build(python: Path) -> Path:
    """The folder of MLflow's built UI inside its virtualenv."""
    found = list(python.parent.parent.glob("lib/python*/site-packages/mlflow/server/js/build"))
    if not found:
        raise MlflowUnavailable(f"no built UI in {MLFLOW_VENV}")
    return found[0]


# The app's JavaScript ---------------------------------------------------------------------------


class ScriptLinks(HTMLParser):
    """The scripts an index.html loads first: `<script src>` and `<link rel=modulepreload>`."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.sources.append(str(found["src"]))
        if tag == "link" and found.get("rel") == "modulepreload" and found.get("href"):
            self.sources.append(str(found["href"]))


@dataclass(frozen=True)
class Bundle:
    """Gzipped (level 9) sizes in bytes: the scripts loaded first, and the others (lazy)."""

    initial: dict[str, int]
    lazy: dict[str, int]


def bundle(build: Path, scripts: Path) -> Bundle:
    """The sizes of a built UI: `build` holds its index.html, `scripts` all its .js files."""
    links = ScriptLinks()
    links.feed((build / "index.html").read_text())
    first = {Path(re.sub(r"[?#].*", "", source)).name for source in links.sources}
    sizes = {
        str(path.relative_to(scripts)): len(gzip.compress(path.read_bytes(), compresslevel=9))
        for path in sorted(scripts.rglob("*.js"))
    }
    initial = {name: size for name, size in sizes.items() if Path(name).name in first}
    if len(initial) != len(first):
        raise BenchmarkFailed(f"{build / 'index.html'} names scripts not in {scripts}: {first}")
    return Bundle(initial, {name: size for name, size in sizes.items() if name not in initial})


def modelyard_bundle() -> Bundle:
    if not (DIST / "index.html").exists():
        raise BenchmarkFailed(f"the app is not built ({DIST}): run `make portal`")
    return bundle(DIST, DIST / "assets")


def kb(sizes: dict[str, int]) -> float:
    return sum(sizes.values()) / 1000


# Report -----------------------------------------------------------------------------------------


def rows(modelyard: dict[str, Loads], mlflow: dict[str, Loads] | None, runs: int) -> list[Result]:
    size_note = "" if runs == TARGET_RUNS else f" at {runs:,} runs"
    labels = {
        "runs": f"runs table{size_note}, first rows",
        "run": f"run page, {SERIES} × {SERIES_POINTS:,} points, all charts",
    }
    results = []
    for page, label in labels.items():
        for cache in ("cold", "warm"):
            ours: list[float] = getattr(modelyard[page], cache)
            theirs: list[float] | None = getattr(mlflow[page], cache) if mlflow else None
            results.append(
                Result(
                    f"{label}, {cache} cache",
                    statistics.median(ours),
                    statistics.median(theirs) if theirs else None,
                    worst=max(ours),
                    mlflow_worst=max(theirs) if theirs else None,
                )
            )
    return results


def size_row(ours: Bundle, theirs: Bundle | None) -> Result:
    return Result(
        "initial JavaScript, gzip -9, KB",
        kb(ours.initial),
        kb(theirs.initial) if theirs else None,
        unit="KB",
        target=TARGET_INITIAL_JS_KB,
    )


def print_report(
    results: list[Result],
    bundles: tuple[Bundle, Bundle | None],
    seeded: str,
    mlflow_version: str,
    repeats: int,
    load_at_start: float,
) -> None:
    print("The portal app vs the MLflow UI, headless Chromium, servers on 127.0.0.1")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs,"
        f" {platform.system()} {platform.machine()}, load average (1 min)"
        f" {load_at_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    )
    print(f"Seeded{' on both sides' if mlflow_version else ''}: {seeded}")
    if mlflow_version:
        print(f"MLflow {mlflow_version} ({MLFLOW_VENV.relative_to(HERE.parent)}), SQLite")
    print(
        f"ms from the navigation's start to the first frame showing it: the median of"
        f" {repeats} loads after one unmeasured (the worst in brackets); cold: a fresh"
        " browser profile per load; warm: one profile, reloaded."
    )
    print()
    print_rows(results)
    ours, theirs = bundles
    print_bundle("Modelyard", ours)
    if theirs:
        print_bundle("MLflow", theirs)


def print_bundle(name: str, sizes: Bundle) -> None:
    print(f"{name}'s initial JavaScript, gzip -9: {kb(sizes.initial):,.1f} KB")
    for script, size in sizes.initial.items():
        print(f"    {script:<60}{size / 1000:>10,.1f} KB")
    print(f"{name}'s lazy chunks: {len(sizes.lazy)}, {kb(sizes.lazy):,.1f} KB in all")
    for script, size in sorted(sizes.lazy.items(), key=lambda item: -item[1])[:10]:
        print(f"    {script:<60}{size / 1000:>10,.1f} KB")
    if len(sizes.lazy) > 10:
        print(f"    … and {len(sizes.lazy) - 10} more")
    print()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    load_at_start = os.getloadavg()[0]  # the machine's other work bears on every timing
    sys.path.append(str(HERE.parent / "tests"))  # for chromium_binary, as the browser tests
    mlflow_version, failure = "", ""
    mlflow_loads: dict[str, Loads] | None = None
    theirs: Bundle | None = None
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-portal-") as tmp:
        scratch = Path(tmp)
        # Before importing Modelyard: the user's registry of workspaces is left alone.
        os.environ["MODELYARD_HOME"] = str(scratch / "modelyard-home")
        try:
            ours = modelyard_bundle()
            with chromium() as browser:
                modelyard_loads, seeded = measure_modelyard(args, scratch, browser)
                if not args.skip_mlflow:
                    try:
                        mlflow_version, mlflow_loads, build = measure_mlflow(args, scratch, browser)
                        theirs = bundle(build, build / "static")
                    except (MlflowUnavailable, BenchmarkFailed, PlaywrightError) as error:
                        failure = str(error)
        except (BenchmarkFailed, PlaywrightError) as error:
            print(f"Modelyard could not be measured: {error}")
            return 1
    results = [*rows(modelyard_loads, mlflow_loads, args.runs), size_row(ours, theirs)]
    print_report(results, (ours, theirs), seeded, mlflow_version, args.repeats, load_at_start)
    if failure:
        print(f"MLflow was not measured: {failure}")
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
