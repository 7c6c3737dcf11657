"""Auth is on by default: every API route refuses a missing, wrong or revoked token with 401."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.server import create_app
from modelyard.services import auth
from modelyard.services.workspaces import OpenWorkspace, create_workspace
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
