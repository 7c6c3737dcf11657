"""What the tests of the portal's single-page app share: where its build and its npm packages
are, and the rule for a missing build (`make portal` builds it: skipped without one, except
under CI=true, where that fails the run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelyard.server.spa import DIST_DIR

REPO = Path(__file__).resolve().parents[2]
UI_MODULES = REPO / "portal-ui" / "node_modules"
AXE_SCRIPT = UI_MODULES / "axe-core" / "axe.min.js"


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
