"""The FastAPI application factory: one workspace, one router per resource, one error mapping.

The REST API lives under /api/v1; the portal's pages (`server/portal/`) at the root.

Every error leaves as JSON `{"code", "message", "context"}` with the status of the code's row in
`errors.HTTP_STATUS`, so the REST client rebuilds the same `ModelyardError`. Bad input is a 4xx,
never a 500: request validation errors become INVALID_VALUE with status 422.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from modelyard import __version__
from modelyard.errors import InvalidValue, ModelyardError, NotFound, http_status_for
from modelyard.server.deps import require_user
from modelyard.server.portal.site import install_portal
from modelyard.server.routes import artifacts, experiments, portal_data, runs, workspace
from modelyard.services.workspaces import OpenWorkspace

API_PREFIX = "/api/v1"


def create_app(ws: OpenWorkspace, *, auth: bool = True) -> FastAPI:
    """The app over an open workspace; `auth=False` only for a server bound to 127.0.0.1."""
    app = FastAPI(
        title="Modelyard",
        version=__version__,
        description="A self-hosted machine-learning workspace: REST API.",
    )
    app.state.ws = ws
    app.state.auth = auth
    guarded = [Depends(require_user)]
    for module in (workspace, experiments, runs, artifacts, portal_data):
        app.include_router(module.router, prefix=API_PREFIX, dependencies=guarded)
    install_portal(app)  # pages check the login cookie themselves and redirect to /login
    app.add_exception_handler(ModelyardError, _modelyard_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_middleware(RefuseFragmentsMiddleware)
    return app


class RefuseFragmentsMiddleware:
    """A `#` on the request line is malformed HTTP (browsers never send fragments): 400."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and b"#" in scope.get("raw_path", b""):
            refusal = InvalidValue(
                "request path contains '#': a fragment is not part of a request; encode '#' as"
                " %23 if it belongs to a name",
            )
            await error_response(refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def error_response(error: ModelyardError, status: int | None = None) -> JSONResponse:
    return JSONResponse(error.to_dict(), status_code=status or http_status_for(error))


async def _modelyard_error(_request: Request, error: ModelyardError) -> JSONResponse:
    return error_response(error)


async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [_describe(item) for item in error.errors()]
    message = f"request refused: {'; '.join(problems[:3])}; fix: send the fields the API expects"
    return error_response(InvalidValue(message, errors=problems), status=422)


async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's own refusals (no such route, wrong method) in the same error format."""
    if error.status_code == 404:
        refusal: ModelyardError = NotFound(
            f"no API route {request.url.path!r}: see /docs for the routes", path=request.url.path
        )
    else:
        refusal = InvalidValue(
            f"{request.method} {request.url.path} refused: {error.detail}", path=request.url.path
        )
    return error_response(refusal, status=error.status_code)


def _describe(item: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
    return f"{where or 'body'}: {item.get('msg', 'invalid')}"
