"""Logging in to the portal on a real server: the login page and its cookie, where it leads,
logging out, the cookie on the API, the headers and the one stylesheet of the pages the server
still renders itself (the login, an error, the API reference)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.server.spa import site as spa_site
from modelyard.services import auth
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.portal_support import API, Served, logged_in_client, served


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[OpenWorkspace]:
    workspace = create_workspace("portal-ws", path=tmp_path / "ws", location="lab-eu")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def site(ws: OpenWorkspace) -> Iterator[Served]:
    with served(ws) as running:
        yield running


# Logging in ------------------------------------------------------------------------------------


def test_pages_send_a_stranger_to_the_login_page_and_back(site: Served) -> None:
    with httpx.Client(base_url=site.url) as browser:
        refused = browser.get("/app/runs?status=Running&offset=100")
        assert refused.status_code == 303
        assert refused.headers["location"] == (
            "/login?next=%2Fapp%2Fruns%3Fstatus%3DRunning%26offset%3D100"
        )
        form = browser.get(refused.headers["location"])
        assert form.status_code == 200 and 'name="token"' in form.text
        assert 'value="/app/runs?status=Running&amp;offset=100"' in form.text
        assert "Log in to portal-ws" in form.text and 'role="alert" hidden>' in form.text
        wrong = browser.post("/login", data={"token": "myd_nope", "next": "/app/runs"})
        assert wrong.status_code == 401 and "malformed API token" in wrong.text
        assert "set-cookie" not in wrong.headers
        assert site.token is not None
        accepted = browser.post("/login", data={"token": site.token, "next": "/app/runs?x=2"})
        assert accepted.status_code == 303 and accepted.headers["location"] == "/app/runs?x=2"
        cookie = accepted.headers["set-cookie"].lower()
        assert "modelyard_token=" in cookie and "httponly" in cookie
        assert "samesite=strict" in cookie and "path=/" in cookie
        reference = browser.get("/docs")
        assert reference.status_code == 200 and "portal-ws" in reference.text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_logging_in_never_sends_the_browser_to_another_site(site: Served, target: str) -> None:
    answer = httpx.post(f"{site.url}/login", data={"token": site.token or "", "next": target})
    assert answer.status_code == 303 and answer.headers["location"] == "/app/"


def test_a_login_form_posted_by_another_site_is_refused(site: Served) -> None:
    forged = httpx.post(
        f"{site.url}/login",
        data={"token": site.token or "", "next": "/app/"},
        headers={"Origin": "http://evil.example"},
    )
    assert forged.status_code == 403 and "set-cookie" not in forged.headers


def test_logging_out_forgets_the_cookie(site: Served) -> None:
    with logged_in_client(site) as browser:
        assert browser.get("/docs").status_code == 200
        out = browser.post("/logout")
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert "max-age=0" in out.headers["set-cookie"].lower()
        assert browser.get("/docs").status_code == 303


def test_a_revoked_token_logs_the_browser_out(site: Served, ws: OpenWorkspace) -> None:
    with logged_in_client(site) as browser:
        assert browser.get("/docs").status_code == 200
        token_id = auth.parse_token(site.token or "")[0]
        auth.revoke_token(ws, token_id)
        again = browser.get("/app/experiments")
        assert again.status_code == 303 and "revoked" in again.headers["location"]
        form = browser.get(again.headers["location"])
        assert 'role="alert" >' in form.text and "revoked" in form.text


def test_the_api_takes_the_cookie_but_a_change_needs_the_portal_header(site: Served) -> None:
    with logged_in_client(site) as browser:
        assert browser.get(f"{API}/workspace").json()["name"] == "portal-ws"
        forged = browser.post(f"{API}/experiments", json={"name": "forged"})
        assert forged.status_code == 401 and "x-modelyard-portal" in forged.json()["message"]
        made = browser.post(
            f"{API}/experiments", json={"name": "mine"}, headers={"X-Modelyard-Portal": "1"}
        )
        assert made.status_code == 200
    assert httpx.get(f"{site.url}{API}/workspace").status_code == 401
    bearer = {"Authorization": f"Bearer {site.token}"}
    assert httpx.post(f"{site.url}{API}/experiments", json={"name": "x"}, headers=bearer).is_success


def test_with_auth_off_every_page_is_open(ws: OpenWorkspace) -> None:
    with served(ws, auth_on=False) as site, httpx.Client(base_url=site.url) as browser:
        reference = browser.get("/docs")
        assert reference.status_code == 200 and "auth off" in reference.text
        assert "Log out" not in reference.text
        assert browser.get("/login?next=/app/runs").headers["location"] == "/app/runs"
        assert browser.get("/login").headers["location"] == "/app/"
        assert browser.post("/logout").headers["location"] == "/app/"


def test_pages_are_not_cached_framed_or_open_to_inline_scripts(site: Served) -> None:
    with logged_in_client(site) as browser:
        headers = browser.get("/docs").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store" and headers["x-frame-options"] == "DENY"
    login = httpx.get(f"{site.url}/login")
    assert "default-src 'none'" in login.headers["content-security-policy"]


def test_the_login_page_has_its_own_small_stylesheet_and_no_script(site: Served) -> None:
    page = httpx.get(f"{site.url}/login").text
    start = page.index("/static/page.css?v=")
    url = page[start : page.index('"', start)]
    stylesheet = httpx.get(f"{site.url}{url}")  # public: it holds no workspace data
    assert stylesheet.status_code == 200 and ".top-bar" in stylesheet.text
    assert "<script" not in page and "style=" not in page
    assert "http://" not in page and "https://" not in page
    assert httpx.get(f"{site.url}/static/portal.js").status_code == 404  # the old script: gone


def test_a_page_error_is_a_page_in_the_portals_look(
    site: Served, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The app's page where the app is not built: the error page says what to run."""
    monkeypatch.setattr(spa_site, "DIST_DIR", tmp_path / "no-build")
    with logged_in_client(site) as browser:
        answer = browser.get("/app/runs")
    assert answer.status_code == 404 and "make portal" in answer.text
    assert "<h1>Error 404</h1>" in answer.text and 'href="/app/"' in answer.text
    assert "default-src 'none'" in answer.headers["content-security-policy"]
