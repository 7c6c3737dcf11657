"""Logging in to the portal: an API token pasted once, then kept in an HttpOnly cookie.

The cookie holds the token itself (the server keeps no sessions): HttpOnly so no script can read
it, SameSite=Strict so no other site's page can make the browser send it, Secure when served over
HTTPS. Revoking the token (`modelyard token revoke`) logs the browser out at its next request.
Logging in leads to the page the browser came for, by default the app's first page (/app/).
`POST /logout` (the app's "Log out" button, a form of this origin: the request guard refuses one
sent by another site's page) forgets the cookie.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from modelyard.errors import AuthError
from modelyard.server.deps import SESSION_COOKIE, caller_of, presented_token, workspace_of
from modelyard.server.portal.rendering import APP_HOME, LoginRequired, PortalRoute, render

COOKIE_MAX_AGE_S: Final = 7 * 24 * 3600
LOGIN_FORM_MAX_BYTES: Final = 4096

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


def page_user(request: Request) -> str:
    """Dependency of every page: the logged-in user's name, or LoginRequired."""
    if not request.app.state.auth:
        return caller_of(request).name
    from modelyard.services import auth

    token = presented_token(request.headers, request.method)
    if token is None:
        raise LoginRequired()
    try:
        user = auth.authenticate(workspace_of(request), token)
    except AuthError as error:
        raise LoginRequired(error.message) from error
    request.state.portal_user = user.name
    return user.name


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, next_page: str = Query(APP_HOME, alias="next"), reason: str = ""
) -> Response:
    if not request.app.state.auth:
        return RedirectResponse(safe_next(next_page), status_code=303)
    return _login_form(request, next_page, reason)


@router.post("/login", response_class=HTMLResponse)
async def log_in(request: Request) -> Response:
    form = await _form(request)
    target = safe_next(form.get("next", APP_HOME))
    if not request.app.state.auth:
        return RedirectResponse(target, status_code=303)
    if not _same_origin(request):
        return _login_form(request, target, "login refused: the form was sent by another site", 403)
    token = form.get("token", "").strip()
    from modelyard.services import auth

    try:
        auth.authenticate(workspace_of(request), token)
    except AuthError as error:
        return _login_form(request, target, error.message, 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=COOKIE_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def log_out(request: Request) -> Response:
    response = RedirectResponse("/login" if request.app.state.auth else APP_HOME, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def safe_next(target: str) -> str:
    """Where to go after logging in: a path on this server, never another site (open redirect);
    the app's first page when there is none."""
    parts = urlsplit(target)
    local = target.startswith("/") and not target.startswith(("//", "/\\"))
    if not local or parts.scheme or parts.netloc or "\\" in target:
        return APP_HOME
    return target


def _login_form(request: Request, target: str, message: str, status: int = 200) -> Response:
    values = {
        "next": safe_next(target),
        "message": message,
        "alert_hidden": "" if message else "hidden",
        "workspace": workspace_of(request).workspace.name,
    }
    return render(request, "login.html", title="Log in", values=values, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    """The url-encoded login form (no multipart parser needed for two small fields)."""
    body = await request.body()
    if len(body) > LOGIN_FORM_MAX_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}


def _same_origin(request: Request) -> bool:
    """A login form posted by another site's page would log the user in as someone else."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser, or an old one: SameSite and the token itself still apply
    return urlsplit(origin).netloc == request.headers.get("host", "")
