"""The portal's single-page app in a real headless Chromium (Playwright) on a real server: log in
through the login page, the runs table, a run page whose charts draw its points, its log
streaming while the run writes, its artifacts, guardrails report and confusion matrix, the
computes, and an axe-core check of each page. Screenshots at 1440 and 800 px land in
test-output/screenshots/ (spa-*.png)."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from modelyard.entities import Metric, RunStatus
from modelyard.entities.auth import Role
from modelyard.entities.compute import ComputeRequest, Priority
from modelyard.runtime.heartbeat import Heartbeat
from modelyard.services import auth, computes
from modelyard.services.runs import end_run, start_interactive_run
from modelyard.services.workspaces import OpenWorkspace
from server.browser_support import WAIT_MS, checked_page, log_in, shoot
from server.portal_support import Served, sleeping_jobs
from server.spa_support import axe_violations, check_page

playwright_api = pytest.importorskip("playwright.sync_api")


def trained_run(ws: OpenWorkspace, name: str, epochs: int) -> str:
    """An ended run with train/validation loss per epoch, a learning rate and one test score."""
    run = ws.store.create_run("flowers", user="admin", display_name=name, status=RunStatus.RUNNING)
    now = time.time()
    metrics = [
        metric
        for epoch in range(epochs)
        for metric in (
            Metric("train_loss", 1.0 / (epoch + 1), epoch, now),
            Metric("validation_loss", 1.2 / (epoch + 1), epoch, now),
            Metric("learning_rate", 0.1 * 0.9**epoch, epoch, now),
        )
    ]
    metrics.append(Metric("test_accuracy", 0.93, epochs, now))
    params = {"backbone": "resnet18", "epochs": str(epochs)}
    ws.store.log_batch(run.id, metrics, params=params, tags={"team": "vision"})
    ws.store.transition_run(run.id, RunStatus.COMPLETED)
    return run.id


def test_runs_table_run_page_with_charts_and_computes(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace
) -> None:
    run_id = trained_run(ws, "resnet-baseline", epochs=12)
    trained_run(ws, "resnet-longer", epochs=20)
    computes.create_compute(ws, ComputeRequest("spot-pool", priority=Priority.LOW_PRIORITY))
    with checked_page(browser, site) as page:
        log_in(page, site, "/app/runs")
        page.wait_for_url("**/app/runs")
        rows = page.locator("tbody tr[data-run-id]")
        rows.first.wait_for()
        assert rows.count() == 2
        assert "resnet-baseline" in page.inner_text(".runs-table")
        assert page.is_visible("th[data-column='metric:train_loss']")
        check_page(page, "runs")

        page.click("th[data-column='metric:train_loss'] button")  # ascending: lowest loss
        page.wait_for_url("**/app/runs?sort=metric%3Atrain_loss&order=asc")
        page.wait_for_function(
            "() => document.querySelector('tbody tr[data-run-id] a')?.textContent"
            " === 'resnet-longer'"
        )

        page.click(f"tr[data-run-id='{run_id}'] a")
        page.wait_for_url(f"**/app/runs/{run_id}")
        loss = page.locator("figure[data-chart='loss']")
        loss.wait_for()
        assert loss.get_attribute("data-points") == "24"  # train and validation, 12 epochs each
        assert loss.locator("canvas").count() == 1
        assert "validation_loss" in loss.inner_text()
        assert page.inner_text("[data-field=status]") == "Completed"
        assert "0.93" in page.inner_text("#metric-summary")  # one value: no chart of its own
        assert page.locator("figure[data-chart='test_accuracy']").count() == 0
        page.check("figure[data-chart='loss'] input[type=checkbox]")  # log scale
        assert loss.locator("canvas").count() == 1
        check_page(page, "run")

        page.click("nav >> text=Computes")
        page.wait_for_url("**/app/computes")
        page.locator("tr[data-compute='spot-pool']").wait_for()
        check_page(page, "computes")
        page.click("text=spot-pool")
        page.wait_for_url("**/app/computes/spot-pool")
        page.locator("h1", has_text="Compute spot-pool").wait_for()
        assert "Priority\nlow-priority" in page.inner_text("main")
        check_page(page, "compute")


# The run page's lower panels (portal-ui/src/run/) ------------------------------------------------


def test_the_log_streams_and_the_chart_gains_points_while_the_run_writes_them(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace
) -> None:
    run = start_interactive_run(ws, "live", user="admin", display_name="training-now")
    beating = Heartbeat(ws.store, run.id, ws.settings.heartbeat_interval_s).start()
    try:
        ws.artifacts.put_bytes(run.id, "logs/std_log.txt", b"epoch 0\n")
        ws.store.log_batch(run.id, _losses(0))
        with checked_page(browser, site) as page:
            log_in(page, site, f"/app/runs/{run.id}")
            page.wait_for_url(f"**/app/runs/{run.id}")
            page.wait_for_function(_log_holds("epoch 0"))
            page.wait_for_selector("[data-connection=open]")
            assert page.is_visible("#live-indicator")
            for epoch in range(1, 9):  # the job goes on writing while the page is open
                append_log(ws, run.id, f"epoch {epoch}\n")
                ws.store.log_batch(run.id, _losses(epoch))
                time.sleep(0.2)
            page.wait_for_function(_log_holds("epoch 8"))
            # train_loss and validation_loss on one chart, 9 epochs each, drawn as they came
            page.wait_for_selector("figure[data-chart='loss'][data-points='18']")
            text = page.inner_text("#log")
            assert [line for line in text.splitlines() if line] == [f"epoch {n}" for n in range(9)]
            assert page.is_checked("text=Follow")
            assert axe_violations(page) == []
            shoot(page, "spa-run-live-log")

            ws.artifacts.put_bytes(run.id, "outputs/model.onnx", b"written as the job ends")
            end_run(ws, run.id, RunStatus.COMPLETED)
            page.wait_for_selector("#log[data-ended=Completed]")
            page.wait_for_function(
                "() => document.querySelector('[data-field=status]')?.textContent === 'Completed'"
            )
            assert page.locator("#live-indicator").count() == 0
            assert "The run ended (Completed)" in page.inner_text(".log-state")
            page.locator("role=tab[name='Artifacts (2)']").wait_for()  # listed once more at the end
            assert page.evaluate("() => document.querySelector('#log').textContent.length") > 0
    finally:
        beating.stop()


def test_an_image_classification_runs_artifacts_guardrails_and_confusion_matrix(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace, tmp_path: Path
) -> None:
    run_id = evaluated_run(ws, tmp_path)
    with checked_page(browser, site) as page:
        log_in(page, site, f"/app/runs/{run_id}?panel=guardrails")
        page.wait_for_url(f"**/app/runs/{run_id}?panel=guardrails")
        assert "passed" in page.inner_text("#guardrails h2")
        assert "tulip" in page.inner_text("#guardrails-classes")
        assert "cannot decode tulip/broken.jpg" in page.inner_text("#guardrails-issues")
        check_page(page, "run-guardrails")

        page.click("role=tab[name='Evaluation']")
        page.wait_for_url("**?panel=evaluation")
        page.locator("#confusion-matrix").wait_for()
        cell = page.locator("#confusion-matrix button[data-row='0'][data-column='1']")
        assert cell.inner_text() == str(CONFUSION[0][1])
        cell.click()
        thumbnails = page.locator("#misclassified img")
        thumbnails.first.wait_for()
        assert thumbnails.count() == CONFUSION[0][1]
        _wait_decoded(page, "#misclassified img")
        assert "circle predicted as square" in page.inner_text("#misclassified h3")
        # The keyboard: the chosen cell holds the focus; arrows move it, Enter chooses.
        cell.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        assert "square predicted as triangle" in page.inner_text("#misclassified h3")
        assert page.locator("[role=tooltip]").inner_text().startswith("square predicted as")
        assert page.locator("#class-metrics tbody tr").count() == len(SHAPES)
        check_page(page, "run-evaluation")

        page.click("role=tab[name=/Artifacts/]")
        page.click("#artifact-list >> text=evaluation/")
        page.click("#artifact-list >> text=confusion_matrix.png")
        page.wait_for_url("**?panel=artifacts&artifact=outputs%2Fevaluation%2Fconfusion_matrix.png")
        _wait_decoded(page, "#image-preview")
        with page.expect_download() as downloading:
            page.click("#download")
        assert downloading.value.suggested_filename == "confusion_matrix.png"
        check_page(page, "run-artifact-image")
        page.click("#artifact-list >> text=evaluation.json")
        page.locator("#json-preview").wait_for()
        assert "accuracy" in page.inner_text("#json-preview")

        # A preview is linked to by its URL: opening it again shows the same file.
        page.goto(f"/app/runs/{run_id}?artifact=outputs/guardrails.json")
        page.locator("#json-preview").wait_for()
        assert "57 usable images" in page.inner_text("#json-preview")


SHAPES = ("circle", "square", "triangle")
# Rows are true shapes, columns predicted ones: 2 circles taken for squares, 1 square for a
# triangle, 1 triangle for a circle.
CONFUSION = ((2, 2, 0), (0, 3, 1), (1, 0, 3))


def evaluated_run(ws: OpenWorkspace, tmp_path: Path) -> str:
    """An ended run with the artifacts an image-classification run writes: the guardrails
    report, and the evaluation written by the trainer's own `write_evaluation` on a small data
    set of generated images (with its thumbnails of the misclassified ones)."""
    from PIL import Image

    from modelyard.vision.evaluation import evaluate, write_evaluation

    run = ws.store.create_run("flowers", user="admin", display_name="evaluated")
    sources, y_true, y_pred = [], [], []
    for true, row in enumerate(CONFUSION):
        for predicted, count in enumerate(row):
            for _ in range(count):
                path = tmp_path / "data" / SHAPES[true] / f"{len(sources)}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (96, 64), (40 * true + 60, 120, 40 * predicted + 60)).save(path)
                sources.append(str(path))
                y_true.append(true)
                y_pred.append(predicted)
    folder = tmp_path / "evaluation"
    write_evaluation(evaluate(SHAPES, y_true, y_pred, sources=sources), folder)
    for file in folder.rglob("*"):
        if file.is_file():
            relative = file.relative_to(folder).as_posix()
            ws.artifacts.put_bytes(run.id, f"outputs/evaluation/{relative}", file.read_bytes())
    ws.artifacts.put_bytes(run.id, "outputs/guardrails.json", GUARDRAILS)
    ws.artifacts.put_bytes(run.id, "logs/std_log.txt", b"training\ndone\n")
    ws.store.transition_run(run.id, RunStatus.RUNNING)
    ws.store.transition_run(run.id, RunStatus.COMPLETED)
    return run.id


def timed_run(ws: OpenWorkspace, epochs: int) -> str:
    """An ended run whose points were logged a minute apart: train/loss and val/loss, accuracy,
    and more series than the page shows at first."""
    run = ws.store.create_run(
        "flowers", user="admin", display_name="timed", status=RunStatus.RUNNING
    )
    start = time.time() - epochs * 60
    names = ("train/loss", "val/loss", "val/accuracy", "lr", "grad_norm", "throughput", "epoch_s")
    metrics = [
        Metric(name, (1.0 + (epoch % 3) * 0.2) / (epoch + 1) + index, epoch, start + epoch * 60)
        for epoch in range(epochs)
        for index, name in enumerate(names)
    ]
    ws.store.log_batch(run.id, metrics)
    ws.store.transition_run(run.id, RunStatus.COMPLETED)
    return run.id


GUARDRAILS = b"""{
  "passed": true,
  "summary": "guardrails passed: 57 usable images in 2 classes; 1 warning (1 unreadable)",
  "file_count": 58, "usable_count": 57, "bad_file_count": 1,
  "class_counts": {"daisy": 30, "tulip": 27},
  "errors": [],
  "warnings": [{"kind": "unreadable", "path": "tulip/broken.jpg", "label": "tulip",
                "detail": "cannot decode tulip/broken.jpg", "fix": "delete or replace it",
                "message": "cannot decode tulip/broken.jpg; fix: delete or replace it"}],
  "fingerprint": {}, "limits": {"min_classes": 2, "min_images_per_class": 2}
}"""


def _losses(epoch: int) -> list[Metric]:
    now = time.time()
    return [
        Metric("train_loss", 1.0 / (epoch + 1), epoch, now),
        Metric("validation_loss", 1.2 / (epoch + 1), epoch, now),
    ]


def append_log(ws: OpenWorkspace, run_id: str, text: str) -> None:
    with open(ws.local_artifacts.local_path(run_id, "logs/std_log.txt"), "a") as log:
        log.write(text)


def _log_holds(text: str) -> str:
    return f"() => document.querySelector('#log')?.textContent.includes({text!r})"


def _wait_decoded(page: playwright_api.Page, selector: str) -> None:
    """Every image `selector` finds has loaded and decoded (a width of its own)."""
    page.wait_for_function(
        f"""() => [...document.querySelectorAll({selector!r})]
            .every(img => img.complete && img.naturalWidth > 0)""",
        timeout=WAIT_MS,
    )


def test_run_page_timeline_chart_controls_and_cancel(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace, tmp_path: Path
) -> None:
    run_id = timed_run(ws, epochs=10)
    with checked_page(browser, site) as page:
        log_in(page, site, f"/app/runs/{run_id}")
        page.wait_for_url(f"**/app/runs/{run_id}")
        timeline = page.locator("#status-timeline")
        timeline.locator("li[data-stage='Completed']").wait_for()
        assert timeline.locator("li[data-stage='Queued']").count() == 1
        loss = page.locator("figure[data-chart='loss']")
        loss.wait_for()
        assert loss.get_attribute("data-points") == "20"  # train/loss and val/loss on one chart
        charts = page.locator("section[aria-label='Charts'] figure")
        assert charts.count() == 3  # loss, accuracy, learning rate; the other three wait
        page.click("text=More charts (3)")
        page.locator("figure[data-chart='throughput']").wait_for()

        # The keyboard moves the smoothing slider; the view lands in the URL.
        slider = page.get_by_label("Smoothing")
        slider.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.wait_for_url("**smooth=0.05")
        page.locator("figure[data-chart='loss'][data-smoothing='0.05']").wait_for()  # next render
        assert "train/loss (raw)" in loss.inner_text()
        page.get_by_label("X axis").select_option("relative")
        page.wait_for_url("**smooth=0.05&x=relative")
        page.wait_for_function(
            "() => document.querySelector(\"figure[data-chart='loss'] .u-legend\")"
            "?.textContent.includes('time since start')"
        )
        assert loss.locator("canvas").count() == 1
        check_page(page, "run-controls")

        # A shared link opens with the same view.
        page.goto(f"/app/runs/{run_id}?smooth=0.8&x=wall")
        loss.wait_for()
        assert page.get_by_label("Smoothing").input_value() == "0.8"
        assert page.get_by_label("X axis").input_value() == "wall"
        assert loss.get_attribute("data-x-axis") == "wall"

        with sleeping_jobs(ws, tmp_path / "project", "local", 1) as (live,):
            refused = cancel_as_reader(browser, site, ws, live.id)
            assert refused.startswith("Not canceled: ") and "\n" not in refused
            page.goto(f"/app/runs/{live.id}")
            page.locator(
                "#status-timeline li[data-stage='Running'][data-state='current']"
            ).wait_for()
            page.click("button:text('Cancel run')")
            shoot(page, "spa-run-cancel-asked-1440", full_page=False)
            page.click("button:text('Yes, cancel it')")
            page.wait_for_function(
                "() => document.querySelector('[data-field=status]')?.textContent === 'Canceled'"
            )
            page.locator("#status-timeline li[data-stage='Canceled']").wait_for()
            stages = page.locator("#status-timeline li").evaluate_all(
                "(items) => items.map(i => i.dataset.stage)"
            )
            assert stages == ["Queued", "Running", "Canceled"]
            assert page.locator("button:text('Cancel run')").count() == 0
            shoot(page, "spa-run-canceled-1440")
        assert ws.store.get_run(live.id).status is RunStatus.CANCELED


def cancel_as_reader(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace, run_id: str
) -> str:
    """A reader presses Cancel on a live run: the server refuses, the page says why."""
    auth.create_user(ws, "rita", Role.READER)
    _, token = auth.create_token(ws, "rita-portal", "rita")
    context = browser.new_context(base_url=site.url)  # a 403 on the console is expected here
    try:
        tab = context.new_page()
        log_in(tab, Served(site.url, token), f"/app/runs/{run_id}")
        tab.click("button:text('Cancel run')")
        tab.click("button:text('Yes, cancel it')")
        return tab.inner_text("[data-field=cancel-error]")
    finally:
        context.close()


def test_the_overview_fits_the_window_at_1440_and_800_px(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace
) -> None:
    trained_run(ws, "a-run-with-a-rather-long-display-name-to-fit", epochs=3)
    failed = ws.store.create_run("speech", user="admin", status=RunStatus.RUNNING)
    ws.store.transition_run(failed.id, RunStatus.FAILED, error="CUDA out of memory")
    computes.create_compute(ws, ComputeRequest("gpu-pool", priority=Priority.LOW_PRIORITY))
    with checked_page(browser, site) as page:
        log_in(page, site, "/app/")
        page.wait_for_url("**/app/")
        page.locator("#recent-runs tbody tr").first.wait_for()
        page.locator("tr[data-compute='gpu-pool']").wait_for()
        page.locator("#status-counts [data-status='Failed']").wait_for()
        assert page.inner_text("#status-counts [data-status='all']") == "2"
        assert page.inner_text("#status-counts [data-status='Completed']") == "1"
        # Run numbers repeat across experiments: each names its own.
        assert {ref.strip() for ref in page.locator("#recent-runs .run-ref").all_inner_texts()} == {
            "flowers #1",
            "speech #1",
        }
        assert ws.workspace.name in page.inner_text("h1")
        assert str(ws.workspace.path) in page.inner_text("#workspace")
        check_page(page, "overview")
        page.click("#status-counts a:has([data-status='Failed'])")
        page.wait_for_url("**/app/runs?status=Failed")
        # The failure reason's column joins once the page's runs are known to include a failure.
        page.locator(f"tr[data-run-id='{failed.id}'] >> text=CUDA out of memory").wait_for()


def test_compare_two_runs(browser: playwright_api.Browser, site: Served, ws: OpenWorkspace) -> None:
    for name, rate, optimizer in (
        ("slow", "0.001", "adam"),
        ("fast", "0.01", "sgd"),
        ("unpicked", "0.1", "sgd"),
    ):
        run = ws.store.create_run("sweep", user="admin", display_name=name)
        scale = float(rate) * 50
        metrics = [Metric("accuracy", min(0.99, 0.3 + scale * e), e, 0.0) for e in range(10)]
        metrics.append(Metric("loss", 1 - scale, 0, 0.0))
        params = {"learning_rate": rate, "epochs": "10", "optimizer": optimizer}
        ws.store.log_batch(run.id, metrics, params=params)
    with checked_page(browser, site) as page:
        log_in(page, site, "/app/runs?experiment=sweep")
        page.locator("tbody tr[data-run-id]").first.wait_for()
        assert page.is_disabled("#compare-button")
        page.check("input[aria-label='Select slow to compare']")
        page.check("input[aria-label='Select fast to compare']")
        assert page.is_enabled("#compare-button")
        page.click("#compare-button")
        page.wait_for_url("**/app/compare?runs=*")
        chart = page.locator("figure[data-chart='accuracy']")
        chart.wait_for()
        assert chart.get_attribute("data-points") == "20"  # two runs, ten epochs each
        assert chart.locator("canvas").count() == 1
        legend = chart.inner_text()
        assert "slow (sweep #1)" in legend and "fast (sweep #2)" in legend
        assert "unpicked" not in legend

        diff = page.locator("#params-diff")
        assert diff.locator("tr.same").count() == 1  # epochs
        assert page.is_visible("#params-diff tr.same")
        page.check("text=Only differences")
        assert diff.locator("tr.same").count() == 0
        differing = diff.locator("tr.differs th").all_text_contents()
        assert differing == ["learning_rate (differs)", "optimizer (differs)"]

        parallel = page.locator("#parallel-coordinates")
        assert parallel.locator("path.parallel-line").count() == 2
        assert parallel.locator("[data-axis='optimizer']").get_attribute("data-kind") == (
            "categorical"
        )
        assert parallel.locator("[data-axis='learning_rate']").get_attribute("data-kind") == (
            "numeric"
        )
        # The metric chooser by keyboard alone.
        page.focus("#parallel-coordinates select")
        page.keyboard.press("ArrowDown")
        page.wait_for_url("**&metric=loss")
        parallel.locator("[data-axis='loss']").wait_for()
        check_page(page, "compare")


def test_the_runs_table_pages_through_1000_runs(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace
) -> None:
    for _ in range(1000):
        ws.store.create_run("big", user="admin", status=RunStatus.COMPLETED)
    limits: list[int] = []
    with checked_page(browser, site) as page:
        page.on("request", lambda request: _note_page_size(request.url, limits))
        log_in(page, site, "/app/runs?experiment=big&limit=500")
        seen = _numbers_scrolled_through(page)
        page.click("nav[aria-label='Pages of runs'] >> text=Next")
        page.wait_for_url("**offset=500**")
        page.wait_for_function(
            "() => document.querySelector('tbody tr[data-run-id]')?.dataset.number === '500'"
        )
        seen += _numbers_scrolled_through(page)
        assert seen == list(range(1000, 0, -1))
        assert "501–1000 of 1,000" in page.inner_text("nav[aria-label='Pages of runs']")
        assert limits and max(limits) == 500  # page by page: never every run at once

        # The "#" column from the chooser, then sorted by: ascending, back to the first page.
        page.click("summary >> text=Columns")
        # A click, not check(): the box is ticked once the URL holds the choice, a moment later.
        page.click("fieldset[data-group=run] label:has-text('#') input")
        page.wait_for_url("**col=number**")
        page.click("th[data-column=number] button")
        page.wait_for_url("**sort=number**")
        page.wait_for_function(
            "() => document.querySelector('tbody tr[data-run-id]')?.dataset.number === '1'"
        )
        assert "1–500 of 1,000" in page.inner_text("nav[aria-label='Pages of runs']")

        # The URL is the view: a copied link opens the same columns, order and page size.
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.click("text=Copy link")
        page.locator("text=Link copied").wait_for()
        link = page.evaluate("() => navigator.clipboard.readText()")
        assert link == page.url
        page.goto(link)
        page.wait_for_function(
            "() => document.querySelector('tbody tr[data-run-id]')?.dataset.number === '1'"
        )
        assert page.is_visible("th[data-column=number][aria-sort=ascending]")
        assert "1–500 of 1,000" in page.inner_text("nav[aria-label='Pages of runs']")
        check_page(page, "runs-1000")


def _note_page_size(url: str, limits: list[int]) -> None:
    if "/api/v1/runs-query" in url:
        query = parse_qs(urlsplit(url).query)
        limits.append(int(query.get("limit", ["50"])[0]))


def _numbers_scrolled_through(page: playwright_api.Page) -> list[int]:
    """Every run number of the page's table in the table's order, read while scrolling its box
    from top to bottom half a box at a time (the table draws only the rows in sight)."""
    page.locator("tbody tr[data-run-id]").first.wait_for()
    scroller = page.locator(".table-scroller")
    scroller.evaluate("box => { box.scrollTop = 0; }")
    numbers: dict[int, None] = {}  # in the order first seen
    at_bottom = False
    while not at_bottom:
        # Two frames: the scroll event's render has drawn the rows now in sight.
        page.evaluate(
            "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
        )
        for number in page.locator("tbody tr[data-run-id]").evaluate_all(
            "rows => rows.map(row => Number(row.dataset.number))"
        ):
            numbers[number] = None
        at_bottom = scroller.evaluate(
            """box => {
                const bottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 1;
                box.scrollTop += box.clientHeight / 2;
                return bottom;
            }"""
        )
    return list(numbers)
