"""The old server-rendered portal's addresses on a real server: each one is a permanent redirect
to the same page in the app under /app/, its query carried over in the app's words; the app's
page then asks for the login."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.portal_support import Served, served


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("moved")
    # A module's fixture runs before conftest's per-test MODELYARD_HOME: its own, or the name
    # would be registered in the real home (and refused there by the next session's run).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELYARD_HOME", str(root / "home"))
        ws: OpenWorkspace = create_workspace("moved-ws", path=root / "ws")
    try:
        with served(ws) as running:
            yield running
    finally:
        ws.close()


MOVED = [
    ("/", "/app/"),
    ("/experiments", "/app/experiments"),
    ("/experiments/flowers", "/app/runs?experiment=flowers"),
    ("/experiments/a%20b?sort=number", "/app/runs?experiment=a+b&sort=number"),
    ("/runs", "/app/runs"),
    (
        "/runs?status=Failed&status=Completed&sort=metric:accuracy&order=asc",
        "/app/runs?status=Failed&status=Completed&sort=metric%3Aaccuracy&order=asc",
    ),
    # The old filter boxes took several filters separated by commas; pages were page × size.
    (
        "/runs?metric=accuracy>0.9,+loss<1&tag=team=vision&page=3&size=25",
        "/app/runs?metric=accuracy%3E0.9&metric=loss%3C1&tag=team%3Dvision&limit=25&offset=50",
    ),
    ("/runs?page=2", "/app/runs?offset=50"),
    ("/runs/abc123", "/app/runs/abc123"),
    ("/runs/abc123?dir=outputs", "/app/runs/abc123"),
    (
        "/runs/abc123/artifact?path=outputs/evaluation/confusion_matrix.png",
        "/app/runs/abc123?artifact=outputs%2Fevaluation%2Fconfusion_matrix.png",
    ),
    ("/runs/abc123/file?path=outputs/cm.png", "/app/runs/abc123?artifact=outputs%2Fcm.png"),
    ("/compare?run=aaa&run=bbb", "/app/compare?runs=aaa,bbb"),
    ("/compare?runs=aaa,bbb", "/app/compare?runs=aaa,bbb"),
    ("/computes", "/app/computes"),
    ("/computes/gpu-pool", "/app/computes/gpu-pool"),
]


@pytest.mark.parametrize(("old", "new"), MOVED)
def test_each_old_address_moved_into_the_app(site: Served, old: str, new: str) -> None:
    answer = httpx.get(f"{site.url}{old}")  # no login needed to learn where a page went
    assert answer.status_code == 308, answer.text
    assert answer.headers["location"] == new


def test_a_bookmark_of_the_old_portal_ends_on_the_login_then_on_its_page(site: Served) -> None:
    with httpx.Client(base_url=site.url, follow_redirects=True) as browser:
        login = browser.get("/runs/abc123/artifact?path=outputs/cm.png")
        assert login.url.path == "/login"
        assert login.url.params["next"] == "/app/runs/abc123?artifact=outputs%2Fcm.png"
        assert site.token is not None
        # A client that does not follow: the login's answer names the page asked for.
        again = httpx.post(
            f"{site.url}/login", data={"token": site.token, "next": login.url.params["next"]}
        )
        assert again.headers["location"] == "/app/runs/abc123?artifact=outputs%2Fcm.png"


def test_old_pages_are_gone_not_answered_beside_the_app(site: Served) -> None:
    """Only GET is redirected: the old pages took nothing else, and nothing else renders them."""
    for path in ("/runs", "/compare", "/computes/local"):
        assert httpx.post(f"{site.url}{path}").status_code == 405
