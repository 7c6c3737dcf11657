"""Logging in and out of the portal in a real headless Chromium (Playwright) on a real server:
the login page, where it leads, the app's "Log out", an old bookmark, and the API reference
running offline under the strict CSP. Screenshots land in test-output/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from modelyard.services.workspaces import OpenWorkspace
from server.browser_support import checked_page, log_in, shoot
from server.portal_support import Served

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page(browser: playwright_api.Browser, site: Served) -> Iterator[playwright_api.Page]:
    with checked_page(browser, site) as tab:
        yield tab


def test_log_in_with_a_token_then_log_out_from_the_app(
    page: playwright_api.Page, site: Served, ws: OpenWorkspace
) -> None:
    ws.store.create_run("flowers", user="admin", display_name="first-look")
    page.goto("/app/experiments")
    page.wait_for_url("**/login?next=%2Fapp%2Fexperiments")
    page.fill("#token", "myd_not_a_token")
    page.click("button[type=submit]")
    assert "malformed API token" in page.inner_text(".alert")
    for width in (1440, 800):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        shoot(page, f"spa-login-{width}")
    page.fill("#token", site.token or "")
    page.click("button[type=submit]")
    page.wait_for_url("**/app/experiments")
    page.locator("main", has_text="flowers").wait_for()
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login")
    page.goto("/app/runs")  # the cookie is gone: the app's pages ask for the login again
    page.wait_for_url("**/login?next=%2Fapp%2Fruns")


def test_the_login_leads_to_the_app_and_an_old_bookmark_to_its_page_in_the_app(
    page: playwright_api.Page, site: Served, ws: OpenWorkspace
) -> None:
    ws.store.create_run("flowers", user="admin", display_name="bookmarked")
    page.goto("/login")
    page.fill("#token", site.token or "")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/app/"))  # no `next`: the app's first page
    page.locator("header.top-bar").wait_for()
    page.goto("/experiments/flowers")  # the old portal's address of the experiment's runs
    page.wait_for_url("**/app/runs?experiment=flowers")
    page.locator("tbody tr[data-run-id]", has_text="bookmarked").wait_for()


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
    assert page.is_visible("header.top-bar >> text=Log out")
    shoot(page, "09-api-reference")
