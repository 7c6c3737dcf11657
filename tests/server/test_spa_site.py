"""The single-page app served by the real server: its page behind the login for every route
under /app/, its hashed assets cached for good, the strict CSP it runs under, its size."""

from __future__ import annotations

import gzip
import re

import httpx

from modelyard.server.portal.rendering import PAGE_CSP
from modelyard.server.spa import DIST_DIR
from modelyard.server.spa.site import ASSET_CACHE
from modelyard.services.workspaces import OpenWorkspace
from server.portal_support import Served, logged_in_client
from server.spa_support import require_built_app

INITIAL_SCRIPT_BUDGET_GZIPPED = 300 * 1024


def scripts_of(page: str) -> list[str]:
    return re.findall(r'<script[^>]*src="([^"]+)"', page)


def test_every_route_of_the_app_answers_its_page_behind_the_login(site: Served) -> None:
    anonymous = httpx.get(f"{site.url}/app/runs?experiment=flowers")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fapp%2Fruns%3Fexperiment%3Dflowers"
    with logged_in_client(site) as client:
        assert client.get("/app").headers["location"] == "/app/"
        pages = [client.get(path) for path in ("/app/", "/app/runs/abc123", "/app/no/such/page")]
    for page in pages:
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == PAGE_CSP
        assert page.headers["cache-control"] == "no-store"
        assert page.text == (DIST_DIR / "index.html").read_text()


def test_the_page_runs_under_the_strict_csp_with_no_inline_script_or_style(site: Served) -> None:
    with logged_in_client(site) as client:
        page = client.get("/app/").text
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None, "an inline script"
    assert "<style" not in page and "style=" not in page, "an inline style"
    assert all(src.startswith("/app/assets/") for src in scripts_of(page))
    assert "//" not in "".join(scripts_of(page)), "a script from another site"


def test_hashed_assets_are_public_and_cached_for_good_and_a_missing_one_is_404(
    site: Served,
) -> None:
    with logged_in_client(site) as client:
        script = scripts_of(client.get("/app/").text)[0]
    answer = httpx.get(f"{site.url}{script}")  # no cookie: assets hold no workspace data
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == ASSET_CACHE
    assert answer.headers["content-type"].startswith("text/javascript")
    missing = httpx.get(f"{site.url}/app/assets/index-00000000.js")
    assert missing.status_code == 404


def test_the_initial_script_stays_within_its_gzipped_budget() -> None:
    page = require_built_app().read_text()
    initial = [DIST_DIR / src.removeprefix("/app/") for src in scripts_of(page)]
    size = sum(len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in initial)
    assert 0 < size <= INITIAL_SCRIPT_BUDGET_GZIPPED, f"{size} bytes gzipped"


def test_the_app_reads_the_api_with_the_login_cookie(site: Served, ws: OpenWorkspace) -> None:
    ws.store.create_run("flowers", user="admin", display_name="seen-by-the-app")
    with logged_in_client(site) as client:
        runs = client.get("/api/v1/runs-query", params={"experiment": "flowers"})
        assert runs.status_code == 200
        assert runs.json()["runs"][0]["display_name"] == "seen-by-the-app"
        # A change by cookie needs the app's header (server/deps.py), from this origin only.
        bare = client.post("/api/v1/experiments", json={"name": "new"})
        assert bare.status_code == 401
        headers = {"x-modelyard-portal": "1", "origin": site.url}
        assert client.post("/api/v1/experiments", json={"name": "new"}, headers=headers).is_success
        elsewhere = {"x-modelyard-portal": "1", "origin": "https://evil.example"}
        cross_site = client.post("/api/v1/experiments", json={"name": "x"}, headers=elsewhere)
        assert cross_site.status_code == 403
