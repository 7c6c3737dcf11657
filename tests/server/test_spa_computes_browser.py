"""The app's compute pages in a real headless Chromium on a real server, with real computes and
real jobs holding their nodes: a Failed compute shows why, a full compute shows who holds its
node and who waits and why, and a queued run's page follows it as it starts once a node frees."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.entities import RunStatus
from modelyard.entities.compute import ComputeRequest
from modelyard.services import computes
from modelyard.services.runs import cancel_run
from modelyard.services.workspaces import OpenWorkspace
from server.browser_support import checked_page, log_in, shoot
from server.portal_support import Served, sleeping_jobs
from server.spa_support import check_page

playwright_api = pytest.importorskip("playwright.sync_api")

STATUS_OF_PAGE = "document.querySelector('[data-field=status]')?.textContent"


def test_a_failed_compute_shows_why_and_its_size(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace
) -> None:
    computes.create_compute(ws, ComputeRequest("gpu-pool", size="Standard_NC12", max_nodes=2))
    with checked_page(browser, site) as page:
        log_in(page, site, "/app/computes")
        row = page.locator("#computes tr[data-compute=gpu-pool]")
        row.wait_for()
        assert "lacks" in row.inner_text()
        page.click("#computes >> text=gpu-pool")
        page.wait_for_url("**/app/computes/gpu-pool")
        facts = page.locator("section[aria-label=Compute]")
        facts.wait_for()
        assert "this host lacks what size Standard_NC12 needs" in facts.inner_text()
        assert "12 vCPUs, 112 GiB, 2 GPUs" in facts.inner_text()
        assert "No run holds a node." in page.inner_text("section[aria-label=Running]")
        check_page(page, "compute-failed")


def test_from_a_full_computes_queue_to_a_queued_run_that_starts_when_a_node_frees(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace, tmp_path: Path
) -> None:
    computes.create_compute(ws, ComputeRequest("one-node", max_nodes=1))
    with (
        sleeping_jobs(ws, tmp_path / "project", "one-node", 2) as (first, second),
        checked_page(browser, site) as page,
    ):
        assert second.status is RunStatus.QUEUED
        log_in(page, site, "/app/computes/one-node")
        page.wait_for_url("**/app/computes/one-node")
        running = page.locator("section[aria-label=Running]")
        running.locator("text=sleeper-1").wait_for()
        queue = page.locator("section[aria-label=Queue]")
        assert "sleeper-2" in queue.inner_text()
        assert "waiting for a node on one-node" in queue.inner_text()
        assert "sleeper-1" not in queue.inner_text()
        check_page(page, "compute-queue")

        queue.locator("text=sleeper-2").click()
        page.wait_for_url(f"**/app/runs/{second.id}")
        page.wait_for_function(f"() => {STATUS_OF_PAGE} === 'Queued'")
        assert "waiting for a node on one-node" in page.inner_text(".status-detail")
        assert page.get_attribute("a[href='/app/computes/one-node']", "href") is not None
        shoot(page, "spa-queued-run")

        cancel_run(ws, first.id)  # its node frees: the waiting run is admitted and launched
        page.wait_for_function(f"() => {STATUS_OF_PAGE} === 'Running'")
        assert page.locator(".status-detail").count() == 0
        page.click("a[href='/app/computes/one-node']")
        page.wait_for_url("**/app/computes/one-node")
        running.locator("text=sleeper-2").wait_for()
        assert "Nothing is queued." in queue.inner_text()
