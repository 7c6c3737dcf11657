"""The few pages the server still renders itself (the login, an error, the API reference), and
what every page route shares: the security headers, login redirects, errors as pages.

The portal proper is the single-page app under /app/ (`server/spa/`). These pages are filled
from the plain templates in `templates/` (`string.Template`): every value put into one is
HTML-escaped here, once; the frame (`page.html`) takes only markup built by this package.
Pages carry a strict Content-Security-Policy: scripts, styles and images only from this server
(no inline script or style at all), no framing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from functools import cache
from html import escape
from pathlib import Path
from string import Template
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from modelyard.errors import ModelyardError, http_status_for
from modelyard.server.deps import workspace_of

HERE: Final = Path(__file__).parent
TEMPLATES_DIR: Final = HERE / "templates"
STATIC_DIR: Final = HERE / "static"
STATIC_PREFIX: Final = "/static"
LOGIN_PATH: Final = "/login"
APP_HOME: Final = "/app/"  # the portal's first page: the single-page app's overview

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
# The links back into the app, on a page shown to a logged-in user (the API reference).
APP_SECTIONS: Final = (("Experiments", "experiments"), ("Runs", "runs"), ("Computes", "computes"))


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


def render(
    request: Request,
    template: str,
    *,
    title: str,
    values: dict[str, str],
    head: str = "",
    app_links: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    """`template` filled with `values` (escaped here) in the page's frame.

    `head`: more markup for the frame's <head> (built by the caller from escaped parts);
    `app_links`: the header links back into the app and the "Log out" button."""
    content = _template(template).substitute({key: escape(v) for key, v in values.items()})
    page = _template("page.html").substitute(
        title=escape(title),
        stylesheet=escape(static_url("page.css")),
        head=head,
        workspace=escape(workspace_of(request).workspace.name),
        header_end=_header_end(request) if app_links else "",
        content=content,
    )
    return HTMLResponse(page, status_code=status_code)


def _header_end(request: Request) -> str:
    links = "".join(
        f'<li><a href="{APP_HOME}{path}">{label}</a></li>' for label, path in APP_SECTIONS
    )
    log_out = (
        '<form method="post" action="/logout">'
        '<button type="submit" class="link-button">Log out</button></form>'
        if request.app.state.auth
        else '<span class="badge" title="this server was started with --no-auth">auth off</span>'
    )
    return (
        f'<nav aria-label="Sections"><ul>{links}</ul></nav><div class="top-bar-end">{log_out}</div>'
    )


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES_DIR / name).read_text(encoding="utf-8"))


def error_page(request: Request, error: ModelyardError) -> HTMLResponse:
    status = http_status_for(error)
    values = {"heading": f"Error {status}", "message": error.message, "home": APP_HOME}
    return render(request, "error.html", title=f"Error {status}", values=values, status_code=status)


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
