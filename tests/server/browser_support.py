"""What the real-Chromium portal tests share: the browser, a page that fails its test on any
script error or CSP violation, logging in, screenshots.

The browser is Debian's `chromium-headless-shell`, which `make test` installs when it is missing
(no download from the internet at test time). Without it (or without Playwright) the browser
tests are skipped, except under CI=true, where that fails the run. Playwright is imported only
when a browser is asked for, so a module that also holds plain HTTP tests still runs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from chromium_binary import chromium_executable
from server.portal_support import Served, screenshot_dir

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

WAIT_MS = 15_000


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the block; skips the test without one (fails it under CI)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_executable()
    if executable is None:
        message = "no Chromium: `make test` installs chromium-headless-shell (apt-get)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def checked_page(browser: Browser, site: Served) -> Iterator[Page]:
    """A fresh browser profile on `site`; fails the test on any script error or CSP violation."""
    context = browser.new_context(base_url=site.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("console", lambda message: _note_console_error(message, problems))
    try:
        yield tab
    finally:
        context.close()
    assert problems == []


@contextmanager
def refusing_page(browser: Browser, site: Served, width: int = 800) -> Iterator[Page]:
    """A fresh profile for a caller the server refuses something (a reader): Chromium reports
    each refused request on the console, as it should, so only a script error fails the test."""
    context = browser.new_context(base_url=site.url, viewport={"width": width, "height": 900})
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert errors == []


def _note_console_error(message: ConsoleMessage, problems: list[str]) -> None:
    # A refused login answers 401 on purpose; Chromium reports every 4xx load on the console.
    refused_login = message.location.get("url", "").split("?")[0].endswith("/login")
    if message.type == "error" and not refused_login:
        problems.append(f"console: {message.text} at {message.location.get('url')}")


def log_in(page: Page, site: Served, then: str = "/") -> None:
    page.goto(then)
    page.wait_for_url("**/login?**")
    page.fill("#token", site.token or "")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(screenshot_dir() / f"{name}.png"), full_page=full_page)
