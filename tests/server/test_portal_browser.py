"""The portal in a real headless Chromium (Playwright): log in, follow a live run, open an
artifact, compare runs, page through a big table. Screenshots land in test-output/screenshots/.

The browser and the page checks are in `browser_support` (shared with the compute pages' test).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.entities import Metric, RunStatus
from modelyard.runtime.heartbeat import Heartbeat
from modelyard.services.runs import end_run, start_interactive_run
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.browser_support import WAIT_MS, checked_page, chromium, log_in, shoot
from server.portal_support import Served, confusion_matrix_png, served

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright_api.Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[OpenWorkspace]:
    workspace = create_workspace("browser-ws", path=tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def site(ws: OpenWorkspace) -> Iterator[Served]:
    with served(ws) as running:
        yield running


@pytest.fixture
def page(browser: playwright_api.Browser, site: Served) -> Iterator[playwright_api.Page]:
    with checked_page(browser, site) as tab:
        yield tab


def points_drawn(page: playwright_api.Page, metric: str) -> int:
    box = page.locator(f".chart[data-metric='{metric}']")
    return int(box.get_attribute("data-points") or 0) if box.count() else 0


# Scenarios -------------------------------------------------------------------------------------


def test_log_in_with_a_token(page: playwright_api.Page, site: Served, ws: OpenWorkspace) -> None:
    ws.store.create_run("flowers", user="admin", display_name="first-look")
    page.goto("/experiments")
    page.wait_for_url("**/login?next=%2Fexperiments")
    page.fill("#token", "myd_not_a_token")
    page.click("button[type=submit]")
    assert "malformed API token" in page.inner_text(".alert")
    shoot(page, "01-login")
    page.fill("#token", site.token or "")
    page.click("button[type=submit]")
    page.wait_for_url("**/experiments")
    assert "flowers" in page.inner_text("#experiments")
    page.click("nav >> text=Overview")
    assert page.inner_text("h1") == "Workspace browser-ws"
    assert "first-look" in page.inner_text("main")
    shoot(page, "02-overview")
    page.click("text=Log out")
    page.wait_for_url("**/login")
    page.goto("/runs")
    page.wait_for_url("**/login?next=%2Fruns")


def test_a_running_jobs_chart_gains_points_while_it_runs(
    page: playwright_api.Page, site: Served, ws: OpenWorkspace
) -> None:
    run = start_interactive_run(ws, "live", user="admin", display_name="training-now")
    beating = Heartbeat(ws.store, run.id, ws.settings.heartbeat_interval_s).start()
    ws.store.log_batch(run.id, _epochs(0, 3), params={"backbone": "resnet18", "epochs": "12"})
    ws.artifacts.put_bytes(run.id, "logs/std_log.txt", b"epoch 0\nepoch 1\nepoch 2\n")
    log_in(page, site, f"/runs/{run.id}")
    page.wait_for_function(_points_at_least("validation_accuracy", 3))
    assert page.inner_text("[data-field=status]") == "Running"
    assert page.is_visible("#live-indicator")
    for epoch in range(3, 9):  # the job goes on while the page is open
        ws.store.log_batch(run.id, _epochs(epoch, epoch + 1))
        _append_log(ws, run.id, f"epoch {epoch}\n")
        time.sleep(0.4)
    page.wait_for_function(_points_at_least("validation_accuracy", 9))
    page.wait_for_function("() => document.querySelector('#log').textContent.includes('epoch 8')")
    assert points_drawn(page, "learning_rate") == 9
    assert page.locator(".chart[data-metric='train_loss'] polyline").count() == 1
    shoot(page, "03-live-run")
    with page.expect_navigation():  # the page reloads itself once the run has ended
        end_run(ws, run.id, RunStatus.COMPLETED)
        beating.stop()
    assert page.inner_text("[data-field=status]") == "Completed"
    assert page.get_attribute("#timeline [data-step=ended]", "class") == "done"
    page.wait_for_function(_points_at_least("validation_accuracy", 9))
    assert page.is_hidden("#live-indicator")


def test_open_an_image_artifact_and_the_guardrails_report(
    page: playwright_api.Page, site: Served, ws: OpenWorkspace
) -> None:
    run = ws.store.create_run("flowers", user="admin", display_name="evaluated")
    ws.artifacts.put_bytes(
        run.id, "outputs/evaluation/confusion_matrix.png", confusion_matrix_png()
    )
    ws.artifacts.put_bytes(run.id, "outputs/guardrails.json", _GUARDRAILS)
    ws.artifacts.put_bytes(run.id, "outputs/evaluation/evaluation.json", b'{"accuracy": 0.9}')
    log_in(page, site, f"/runs/{run.id}")
    assert "passed" in page.inner_text("#guardrails h2")
    assert "tulip" in page.inner_text("#guardrails-classes")
    assert "cannot decode tulip/broken.jpg" in page.inner_text("#guardrails-issues")
    assert _image_decoded(page, "#evaluation img")
    page.click("#artifact-list >> text=outputs/")
    page.click("#artifact-list >> text=evaluation/")
    page.click("#artifact-list >> text=confusion_matrix.png")
    page.wait_for_url("**/artifact?path=outputs/evaluation/confusion_matrix.png")
    assert _image_decoded(page, "#image-preview")
    shoot(page, "04-artifact-image")
    with page.expect_download() as downloading:
        page.click("#download")
    assert downloading.value.suggested_filename == "confusion_matrix.png"
    page.go_back()
    page.click("#artifact-list >> text=evaluation.json")
    assert '"accuracy": 0.9' in page.inner_text("#text-preview")
    page.goto(f"/runs/{run.id}")
    shoot(page, "05-run-with-guardrails")


def test_compare_two_runs(page: playwright_api.Page, site: Served, ws: OpenWorkspace) -> None:
    for name, rate in (("slow", "0.001"), ("fast", "0.01"), ("unpicked", "0.1")):
        run = ws.store.create_run("sweep", user="admin", display_name=name)
        scale = float(rate) * 50
        metrics = [Metric("accuracy", min(0.99, 0.3 + scale * e), e, 0.0) for e in range(10)]
        ws.store.log_batch(run.id, metrics, params={"learning_rate": rate, "epochs": "10"})
    log_in(page, site, "/experiments/sweep")
    assert page.is_disabled("#compare-button")
    page.check("tr:has-text('slow') input[name=run]")
    page.check("tr:has-text('fast') input[name=run]")
    assert page.is_enabled("#compare-button")
    page.click("#compare-button")
    page.wait_for_url("**/compare?run=*")
    page.wait_for_function(_points_at_least("accuracy", 20))
    lines = page.locator(".chart[data-metric='accuracy'] polyline")
    assert lines.count() == 2
    assert {lines.nth(i).get_attribute("data-label") or "" for i in range(2)} == {
        "fast (#2)",
        "slow (#1)",
    }
    assert page.is_visible("#params-diff tr.same")
    page.check("input.only-differences[data-table=params-diff]")
    assert page.is_hidden("#params-diff tr.same")
    assert page.inner_text("#params-diff tr.differs th") == "learning_rate"
    shoot(page, "06-compare")


def test_the_runs_table_pages_through_1000_runs(
    page: playwright_api.Page, site: Served, ws: OpenWorkspace
) -> None:
    for _ in range(1000):
        ws.store.create_run("big", user="admin", status=RunStatus.COMPLETED)
    log_in(page, site, "/experiments/big?size=200")
    seen: list[int] = []
    while True:
        numbers = page.locator("#runs-table tbody tr").evaluate_all(
            "rows => rows.map(row => Number(row.dataset.number))"
        )
        seen += numbers
        if page.locator("#next-page").count() == 0:
            break
        page.click("#next-page")
        page.wait_for_load_state()
    assert seen == list(range(1000, 0, -1))
    assert page.inner_text("#page-of") == "Page 5 of 5"
    assert page.inner_text("#runs-count") == "Showing 801–1000 of 1000 runs"
    page.click("#runs-table th >> text=#")  # sort by number, ascending, back to page 1
    assert page.inner_text("#runs-table tbody tr:first-child td.num") == "1"
    assert page.inner_text("#page-of") == "Page 1 of 5"
    shoot(page, "07-runs-table", full_page=False)


# Helpers --------------------------------------------------------------------------------------


def _epochs(start: int, end: int) -> list[Metric]:
    now = time.time()
    return [
        Metric(name, value, epoch, now)
        for epoch in range(start, end)
        for name, value in (
            ("train_accuracy", 0.5 + 0.05 * epoch),
            ("validation_accuracy", 0.45 + 0.04 * epoch),
            ("train_loss", 1.0 / (epoch + 1)),
            ("validation_loss", 1.1 / (epoch + 1)),
            ("learning_rate", 0.01 * 0.9**epoch),
        )
    ]


def _append_log(ws: OpenWorkspace, run_id: str, text: str) -> None:
    path = ws.artifacts.local_path(run_id, "logs/std_log.txt")
    with open(path, "a", encoding="utf-8") as log:
        log.write(text)


def _points_at_least(metric: str, count: int) -> str:
    selector = f".chart[data-metric='{metric}']"
    return f'() => Number(document.querySelector("{selector}")?.dataset.points) >= {count}'


def _image_decoded(page: playwright_api.Page, selector: str) -> bool:
    page.wait_for_selector(selector)
    return bool(
        page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0")
        or page.wait_for_function(
            f"() => document.querySelector('{selector}').naturalWidth > 0", timeout=WAIT_MS
        )
    )


_GUARDRAILS = b"""{
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


def test_the_api_reference_renders_offline_under_the_csp(
    page: playwright_api.Page, site: Served
) -> None:
    log_in(page, site, "/docs")
    page.wait_for_url("**/docs")
    page.wait_for_selector(".opblock-summary-path")
    # Swagger UI breaks long paths with zero-width spaces.
    paths = [
        text.replace("\u200b", "")
        for text in page.locator(".opblock-summary-path").all_inner_texts()
    ]
    assert "/api/v1/jobs" in paths and "/api/v1/runs/{run_id}/logs/stream" in paths
    shoot(page, "09-api-reference")
