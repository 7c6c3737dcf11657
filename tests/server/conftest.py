"""What the portal's browser tests share: a headless Chromium per module, and a real server on
a fresh workspace per test. A module that needs another shape defines its own (it wins)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.browser_support import chromium
from server.portal_support import Served, served
from server.spa_support import require_built_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    pytest.importorskip("playwright.sync_api")
    with chromium() as launched:
        yield launched


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[OpenWorkspace]:
    workspace = create_workspace("app-ws", path=tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def site(ws: OpenWorkspace) -> Iterator[Served]:
    require_built_app()
    with served(ws) as running:
        yield running
