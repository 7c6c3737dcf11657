"""What the tests of the portal's single-page app share: where its build and its npm packages
are, the rule for a missing build (`make portal` builds it: skipped without one, except
under CI=true, where that fails the run), and the check every page of it passes in a browser:
no serious accessibility finding, nothing wider than the window, a screenshot at each width."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from modelyard.server.spa import DIST_DIR
from server.browser_support import shoot

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
UI_MODULES = REPO / "portal-ui" / "node_modules"
AXE_SCRIPT = UI_MODULES / "axe-core" / "axe.min.js"
WIDTHS = (1440, 800)
BLOCKING_IMPACTS = ("serious", "critical")


def require(path: Path, what: str) -> Path:
    """`path`, or skip the test (fail it under CI=true) naming what is missing and the fix."""
    if path.exists():
        return path
    message = f"{what} missing ({path}): run `make portal`"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_built_app() -> Path:
    return require(DIST_DIR / "index.html", "the portal app's build")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page (axe from the local npm package,
    evaluated by the browser's debugger protocol: the page's CSP admits no injected script)."""
    if not page.evaluate("() => 'axe' in window"):
        page.evaluate(require(AXE_SCRIPT, "axe-core (portal-ui's npm packages)").read_text())
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        targets: v.nodes.map(n => n.target.join(' '))}))"""
    )
    return [violation for violation in found if violation["impact"] in BLOCKING_IMPACTS]


def check_page(page: Page, name: str) -> None:
    """No serious accessibility finding, and a screenshot at each width."""
    assert axe_violations(page) == []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        # Nothing wider than the window: a wide table scrolls inside its own box.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        shoot(page, f"spa-{name}-{width}")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
