"""Rendering portal pages: the Jinja2 environment, security headers, and errors as pages.

Pages carry a strict Content-Security-Policy: scripts, styles and images only from this server
(no inline script or style at all), no framing. Data a script needs travels in
`<script type="application/json">` blocks, which the browser never executes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlencode

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from modelyard.errors import ModelyardError, http_status_for
from modelyard.server.deps import caller_of, workspace_of
from modelyard.server.portal import views

HERE: Final = Path(__file__).parent
STATIC_DIR: Final = HERE / "static"
STATIC_PREFIX: Final = "/static"
LOGIN_PATH: Final = "/login"

PAGE_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS: Final = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages show workspace data: never kept by a shared cache
}


class LoginRequired(Exception):
    """No valid token for a page: the route class turns this into a redirect to the login page."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class PortalRoute(APIRoute):
    """A page route: login redirects, errors as HTML pages, and the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired as needed:
                response = login_redirect(request, needed.reason)
            except ModelyardError as error:
                response = error_page(request, error)
            for name, value in PAGE_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return page_handler


@cache
def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(HERE / "templates"))
    env = found.env
    env.autoescape = True
    env.trim_blocks = env.lstrip_blocks = True
    env.globals.update(static_url=static_url, query_with=query_with, quote=quote)
    env.filters.update(
        duration=views.format_duration,
        filesize=views.format_size,
        metric=views.format_metric,
        utc=views.format_time,
    )
    return found


def render(
    request: Request, template: str, context: Mapping[str, Any], status_code: int = 200
) -> HTMLResponse:
    ws = workspace_of(request)
    user = getattr(request.state, "portal_user", "")  # set by page_user; none on the login page
    if not request.app.state.auth:
        user = caller_of(request).name
    full = {
        "workspace": ws.workspace,
        "user": user,
        "auth_enabled": bool(request.app.state.auth),
        "path": request.url.path,
        **context,
    }
    response = templates().TemplateResponse(request, template, full, status_code=status_code)
    assert isinstance(response, HTMLResponse)
    return response


def error_page(request: Request, error: ModelyardError) -> HTMLResponse:
    status = http_status_for(error)
    context = {"error": error, "status": status, "title": f"Error {status}"}
    return render(request, "error.html", context, status_code=status)


def login_redirect(request: Request, reason: str = "") -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target, **({"reason": reason} if reason else {})}
    return RedirectResponse(f"{LOGIN_PATH}?{urlencode(query)}", status_code=303)


def static_url(name: str) -> str:
    """The asset's URL with a fingerprint of its content, so a new version is never stale."""
    return f"{STATIC_PREFIX}/{name}?v={_fingerprint(name)}"


@cache
def _fingerprint(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def query_with(params: Mapping[str, Any], **changes: Any) -> str:
    """`?…` for the current query with some parameters replaced (None removes one)."""
    merged: dict[str, Any] = dict(params)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    pairs = [
        (key, item)
        for key, value in merged.items()
        for item in (value if isinstance(value, list | tuple) else [value])
        if item not in ("", None)
    ]
    return "?" + urlencode(pairs)
