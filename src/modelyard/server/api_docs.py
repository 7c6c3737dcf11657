"""The API reference at /docs (Swagger UI) and the schema at /openapi.json, behind the login.

FastAPI's own /docs loads Swagger UI from a CDN and runs an inline script; here Swagger UI (v5,
which reads OpenAPI 3.1) comes from the files the `fastapi-offline` package ships, served by this
server and started by a script file of ours, so the reference works offline and under the
portal's strict Content-Security-Policy.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from modelyard.server.deps import Reader
from modelyard.server.portal.rendering import PortalRoute, render, static_url
from modelyard.server.portal.session import page_user
from modelyard.server.schemas.errors import declare_error_responses

DOCS_PATH: Final = "/docs"
SCHEMA_PATH: Final = "/openapi.json"
ASSETS_PREFIX: Final = "/docs-assets"

schema_router = APIRouter(include_in_schema=False)
page_router = APIRouter(
    route_class=PortalRoute, include_in_schema=False, dependencies=[Depends(page_user)]
)


@schema_router.get(SCHEMA_PATH, dependencies=[Reader])
def openapi_schema(request: Request) -> JSONResponse:
    schema: dict[str, Any] = request.app.openapi()
    return JSONResponse(schema)


@page_router.get(DOCS_PATH, response_class=HTMLResponse)
def api_reference(request: Request) -> Response:
    head = (
        f'<link rel="stylesheet" href="{ASSETS_PREFIX}/swagger-ui.css">'
        f'<script src="{ASSETS_PREFIX}/swagger-ui-bundle.js" defer></script>'
        f'<script src="{escape(static_url("api_docs.js"))}" defer></script>'
    )
    values = {"schema": SCHEMA_PATH}
    return render(
        request, "api_docs.html", title="API reference", values=values, head=head, app_links=True
    )


def install_api_docs(app: FastAPI) -> None:
    """The routes of the reference; the document is FastAPI's, with every operation's error
    statuses declared (`server/schemas/errors.py`), built once at the first request for it."""
    build_document = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_error_responses(build_document())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.include_router(schema_router)
    app.include_router(page_router)
    app.mount(ASSETS_PREFIX, StaticFiles(directory=_swagger_ui_folder()), name="docs-assets")


def _swagger_ui_folder() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"
