"""Auth is on by default: every API route refuses a missing, wrong or revoked token with 401;
every page of the portal is behind the login cookie, or public by design (the login, redirects,
assets): routes found by walking the app, so a new one is checked the day it is added."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.server import create_app
from modelyard.server.deps import SESSION_COOKIE
from modelyard.services import auth
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.route_walk import (
    API_PREFIX,
    LOGIN_PAGES,
    PUBLIC_MOUNTS,
    PUBLIC_PAGES,
    TOKEN_ROUTES,
    concrete,
    page_routes,
    served_routes,
)
from server.serving import serve


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[OpenWorkspace]:
    workspace = create_workspace("auth-ws", path=tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def served(ws: OpenWorkspace) -> Iterator[tuple[str, str]]:
    admin = auth.ensure_admin(ws)
    assert admin is not None
    with serve(create_app(ws)) as base:
        yield base, admin


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_the_walk_of_the_openapi_document_reaches_every_api_route(ws: OpenWorkspace) -> None:
    app = create_app(ws)
    declared = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    api = {
        (method, path.replace(":path}", "}"))  # the document names `{path:path}` `{path}`
        for method, path in served_routes(app)
        if path.startswith(API_PREFIX)
    }
    assert api == declared  # none left out of the document, so none out of the walk below


def _routes(base: str, admin: str) -> list[tuple[str, str]]:
    spec = httpx.get(f"{base}/openapi.json", headers={"Authorization": f"Bearer {admin}"}).json()
    declared = [
        (method.upper(), _concrete(path))
        for path, operations in spec["paths"].items()
        for method in operations
    ]
    return [*declared, ("GET", "/openapi.json")]  # the schema itself is not public either


def test_every_api_route_needs_a_valid_token(served: tuple[str, str], ws: OpenWorkspace) -> None:
    base, admin = served
    token, secret = auth.create_token(ws, "ci")
    auth.revoke_token(ws, token.id)
    routes = _routes(base, admin)
    assert len(routes) >= 15  # the walk covers every route the app declares, new ones included
    bad = {
        "none": {},
        "wrong": {"Authorization": "Bearer myd_nosuchid_secret"},
        "garbage": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "revoked": {"Authorization": f"Bearer {secret}"},
    }
    for method, path in routes:
        for label, headers in bad.items():
            response = httpx.request(method, f"{base}{path}", headers=headers)
            assert response.status_code == 401, (method, path, label, response.text)
            assert response.json()["code"] == "AUTH_FAILED"
    ok = httpx.get(f"{base}/api/v1/workspace", headers={"Authorization": f"Bearer {admin}"})
    assert ok.status_code == 200 and ok.json()["name"] == "auth-ws"


def test_the_api_reference_is_served_locally_behind_the_login(served: tuple[str, str]) -> None:
    base, admin = served
    anonymous = httpx.get(f"{base}/docs")
    assert anonymous.status_code in (302, 303, 307) and "/login" in anonymous.headers["location"]
    login = httpx.post(f"{base}/login", data={"token": admin, "next": "/docs"})
    page = httpx.get(f"{base}/docs", cookies=login.cookies)
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()  # nothing from the network
    bundle = httpx.get(f"{base}/docs-assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
    schema = httpx.get(f"{base}/openapi.json", cookies=login.cookies)
    assert schema.status_code == 200 and "/api/v1/jobs" in schema.json()["paths"]


def test_a_revoked_token_stops_working_at_once(served: tuple[str, str], ws: OpenWorkspace) -> None:
    base, _ = served
    token, secret = auth.create_token(ws, "laptop")
    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{base}/api/v1/experiments", headers=headers).status_code == 200
    auth.revoke_token(ws, token.id)
    assert httpx.get(f"{base}/api/v1/experiments", headers=headers).status_code == 401


def test_every_page_is_behind_the_login_or_public_by_design(ws: OpenWorkspace) -> None:
    admin = auth.ensure_admin(ws)
    assert admin is not None
    app = create_app(ws)
    mounts = {("MOUNT", path) for path in PUBLIC_MOUNTS}
    assert page_routes(app) == {*PUBLIC_PAGES, *LOGIN_PAGES, *TOKEN_ROUTES, *mounts}
    token, revoked = auth.create_token(ws, "gone")
    auth.revoke_token(ws, token.id)
    cookies = {"none": "", "wrong": "myd_nosuchid_secret", "revoked": revoked}
    with serve(app) as base:
        for method, path in sorted(LOGIN_PAGES):
            url = f"{base}{concrete(path)}?q=1"
            for label, value in cookies.items():
                jar = {"Cookie": f"{SESSION_COOKIE}={value}"} if value else {}
                answer = httpx.request(method, url, headers=jar)
                assert answer.status_code == 303, (path, label, answer.text)
                location = answer.headers["location"]
                assert location.startswith(f"/login?next={concrete(path).replace('/', '%2F')}")
            signed_in = {"Cookie": f"{SESSION_COOKIE}={admin}"}
            assert httpx.request(method, url, headers=signed_in).status_code in (200, 404)
        assert httpx.get(f"{base}/login").status_code == 200
        for method, path in sorted(PUBLIC_PAGES - {("GET", "/login"), ("POST", "/login")}):
            answer = httpx.request(method, f"{base}{concrete(path)}")
            assert answer.status_code in (303, 308), (method, path, answer.text)
            assert answer.headers["location"].startswith(("/app/", "/login")), path
        assert httpx.get(f"{base}/static/page.css").status_code == 200
