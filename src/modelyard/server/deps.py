"""What every route needs: the workspace and an authenticated caller.

A caller proves who they are with an API token, sent as `Authorization: Bearer <token>` (clients)
or in the portal's login cookie (browsers). The cookie is HttpOnly and SameSite=Strict; on top of
that, a request authenticated by the cookie may change something (any method but GET and HEAD)
only with the `X-Modelyard-Portal` header, which no page of another site can add to a request
without a CORS grant this server never gives: a forged form or image cannot act for the user.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from modelyard.errors import AuthError
from modelyard.services.auth import authenticate
from modelyard.services.workspaces import OpenWorkspace

ANONYMOUS = "anonymous"  # the caller of a --no-auth server
SESSION_COOKIE = "modelyard_token"
CSRF_HEADER = "x-modelyard-portal"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def workspace_of(request: Request) -> OpenWorkspace:
    ws: OpenWorkspace = request.app.state.ws
    return ws


def require_user(request: Request) -> Any:
    """The caller's user, from the Bearer header or the portal cookie; 401 without a valid token."""
    if not request.app.state.auth:
        return ANONYMOUS
    token = presented_token(request)
    if token is None:
        raise AuthError(
            "no API token: send the header 'Authorization: Bearer <token>'"
            " (create one with `modelyard token create NAME`)"
        )
    return authenticate(workspace_of(request), token)


def presented_token(request: Request) -> str | None:
    """The token the request carries: the Bearer header first, else the portal's cookie."""
    return _bearer_token(request) or _cookie_token(request)


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _cookie_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE, "").strip()
    if not token:
        return None
    if request.method not in _SAFE_METHODS and CSRF_HEADER not in request.headers:
        raise AuthError(
            f"a {request.method} authenticated by the portal's cookie needs the header"
            f" '{CSRF_HEADER}: 1' (cross-site request protection); API clients send"
            " 'Authorization: Bearer <token>' instead"
        )
    return token
