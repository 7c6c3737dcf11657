"""What every route needs: the workspace, the authenticated caller, and the role it requires.

A caller proves who they are with an API token, sent as `Authorization: Bearer <token>` (clients)
or in the portal's login cookie (browsers). The cookie is HttpOnly and SameSite=Strict; on top of
that, a request authenticated by the cookie may change something (any method but GET and HEAD)
only with the `X-Modelyard-Portal` header, which no page of another site can add to a request
without a CORS grant this server never gives: a forged form or image cannot act for the user.

The token is checked by the request guard (`server/guard.py`) before the body is read; a route
then names the role it needs with one of `Reader`, `WorkspaceReader`, `Contributor`, `Admin`,
`RunReader`, `RunOwner`, `ContributorOrJob` or `ReaderOrJob` (the last two let a running job's
token through too, to routes that then check its scope: its run's direct children, a model
version with its run as the lineage). The rules are `services/authorization.py`. Every route
names one: a test walks them.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from fastapi import Depends, Request
from starlette.datastructures import Headers

from modelyard.entities import Caller, Role, User
from modelyard.errors import AuthError
from modelyard.server.guard import CALLER_KEY, SAFE_METHODS
from modelyard.services import authorization
from modelyard.services.auth import authenticate
from modelyard.services.workspaces import OpenWorkspace

SESSION_COOKIE = "modelyard_token"
CSRF_HEADER = "x-modelyard-portal"
ROLE_ATTRIBUTE = "modelyard_role"  # on each role dependency, for the test that walks routes


def workspace_of(request: Request) -> OpenWorkspace:
    ws: OpenWorkspace = request.app.state.ws
    return ws


def local_caller() -> Caller:
    """The caller of a --no-auth server (loopback only): whoever runs it, as an admin."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "local"
    return Caller(User(id="", name=name, role=Role.ADMIN, created_at=datetime.now(UTC)))


def caller_of(request: Request) -> Caller:
    if not request.app.state.auth:
        caller: Caller = request.app.state.local_caller
        return caller
    found = request.scope.get("state", {}).get(CALLER_KEY)
    if not isinstance(found, Caller):
        raise AuthError("no API token: send the header 'Authorization: Bearer <token>'")
    return found


def request_authenticator(ws: OpenWorkspace) -> Callable[[Headers, str], Caller]:
    """What the request guard calls (in a worker thread) for every API request."""

    def authenticate_request(headers: Headers, method: str) -> Caller:
        token = presented_token(headers, method)
        if token is None:
            raise AuthError(
                "no API token: send the header 'Authorization: Bearer <token>'"
                " (create one with `modelyard token create NAME`)"
            )
        return authenticate(ws, token)

    return authenticate_request


def presented_token(headers: Headers, method: str) -> str | None:
    """The token a request carries: the Bearer header first, else the portal's cookie."""
    return _bearer_token(headers) or _cookie_token(headers, method)


def _bearer_token(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _cookie_token(headers: Headers, method: str) -> str | None:
    token = _cookies(headers).get(SESSION_COOKIE, "").strip()
    if not token:
        return None
    if method not in SAFE_METHODS and CSRF_HEADER not in headers:
        raise AuthError(
            f"a {method} authenticated by the portal's cookie needs the header"
            f" '{CSRF_HEADER}: 1' (cross-site request protection); API clients send"
            " 'Authorization: Bearer <token>' instead"
        )
    return token


def _cookies(headers: Headers) -> dict[str, str]:
    from starlette.requests import cookie_parser

    return cookie_parser(headers.get("cookie", ""))


# The role each route needs ----------------------------------------------------------------------


def _needs(role: Role, *, on_run: bool, jobs_too: bool = False) -> Any:
    """`jobs_too`: a job's token passes too (a route that is not a run's, but that a job on
    another machine needs to open its workspace).

    Run on the event loop: the role alone settles most requests (an admin's, a reader's), and
    only a check that reads the run (its owner, its status for a job's token) goes to a worker
    thread, as every database call must."""

    async def dependency(request: Request) -> Caller:
        caller = caller_of(request)
        if on_run:
            await _check_run_access(request, caller, request.path_params["run_id"], role)
        elif jobs_too and caller.run_id is not None:
            # As on its run's routes: only while that run runs.
            await _check_run_access(request, caller, caller.run_id, role)
        else:
            authorization.check_unscoped(caller)
            authorization.check_role(caller, role)
        return caller

    setattr(dependency, ROLE_ATTRIBUTE, (role, on_run))
    return Depends(dependency)


async def _check_run_access(request: Request, caller: Caller, run_id: str, role: Role) -> None:
    if authorization.run_access_needs_store(caller, run_id, role):
        ws = workspace_of(request)
        await anyio.to_thread.run_sync(authorization.check_run_access, ws, caller, run_id, role)


Reader = _needs(Role.READER, on_run=False)
Contributor = _needs(Role.CONTRIBUTOR, on_run=False)
Admin = _needs(Role.ADMIN, on_run=False)
# The workspace's own description: readers, and jobs opening their workspace over REST.
WorkspaceReader = _needs(Role.READER, on_run=False, jobs_too=True)
RunReader = _needs(Role.READER, on_run=True)  # its run's job token may read it too
RunOwner = _needs(Role.CONTRIBUTOR, on_run=True)  # the run's owner, its job's token, an admin
# Routes a job's token may use within its scope, which the route checks (its run's children,
# a model its run made: `authorization.check_may_start_run`, `check_may_register_model`…).
ContributorOrJob = _needs(Role.CONTRIBUTOR, on_run=False, jobs_too=True)
ReaderOrJob = _needs(Role.READER, on_run=False, jobs_too=True)
