"""What every route needs: the workspace and an authenticated caller."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from modelyard.errors import AuthError
from modelyard.services.workspaces import OpenWorkspace

ANONYMOUS = "anonymous"  # the caller of a --no-auth server


def workspace_of(request: Request) -> OpenWorkspace:
    ws: OpenWorkspace = request.app.state.ws
    return ws


def require_user(request: Request) -> Any:
    """The caller's user, from `Authorization: Bearer <token>`; 401 without a valid token."""
    if not request.app.state.auth:
        return ANONYMOUS
    from modelyard.services import auth

    token = _bearer_token(request)
    if token is None:
        raise AuthError(
            "no API token: send the header 'Authorization: Bearer <token>'"
            " (create one with `modelyard token create NAME`)"
        )
    return auth.authenticate(workspace_of(request), token)


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None
