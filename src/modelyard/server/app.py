"""The FastAPI application factory: one workspace, one router per resource, one error mapping.

The REST API lives under /api/v1; the portal, a single-page app (`server/spa/`, built from
`portal-ui/`), under /app/; the login, the old portal's addresses (redirects into the app) and
the API reference at the root (`server/portal/`, `api_docs.py`).
Errors leave through one mapping (`server/errors.py`); bad input is a 4xx, never a 500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from modelyard._version import __version__
from modelyard.server.api_docs import install_api_docs
from modelyard.server.deps import local_caller, request_authenticator
from modelyard.server.errors import install_error_handlers
from modelyard.server.guard import RequestGuard, allowed_host_names, host_name
from modelyard.server.memory import ReturnMemoryWhenIdle
from modelyard.server.portal.site import install_portal
from modelyard.server.routes import (
    access,
    artifacts,
    components,
    computes,
    data,
    endpoints,
    experiments,
    jobs,
    models,
    pipeline_designer,
    pipeline_drafts,
    portal_data,
    published_pipelines,
    runs,
    schedules,
    workspace,
)
from modelyard.server.spa import install_spa
from modelyard.services.background import BackgroundLoop
from modelyard.services.workspaces import OpenWorkspace

API_PREFIX = "/api/v1"
# Compressed: the app's scripts (~420 KB → ~130 KB), JSON answers (runs pages, metric series).
# Not compressed: what is small, already compressed (images, archives), artifacts' raw bytes
# and uploads' echoes (octet-stream: often model weights, which gain little), and the log's
# server-sent events, which must leave as they are written.
COMPRESSED_FROM_BYTES = 1024
COMPRESSION_LEVEL = 6  # zlib's default: most of level 9's gain at a fraction of its time
NOT_COMPRESSED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/octet-stream", "application/x-tar")
API_ROUTERS = tuple(
    module.router
    for module in (
        workspace,
        experiments,
        runs,
        jobs,
        artifacts,
        portal_data,
        access,
        computes,
        models,
        data,
        components,
        endpoints,
        schedules,
        published_pipelines,
        pipeline_designer,
        pipeline_drafts,
    )
)


def _background_loop_of(
    ws: OpenWorkspace,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The server's background loop (services/background.py) runs while the app serves."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        loop = BackgroundLoop(ws, ws.settings.background_interval_s).start()
        try:
            yield
        finally:
            loop.stop()

    return lifespan


def create_app(ws: OpenWorkspace, *, auth: bool = True, bind_host: str | None = None) -> FastAPI:
    """The app over an open workspace; `auth=False` only for a server bound to 127.0.0.1.

    `bind_host` is the address the server listens on: a name it answers to besides the loopback
    names and the workspace's `allowed_hosts` setting (see `server/guard.py`)."""
    app = FastAPI(
        lifespan=_background_loop_of(ws),
        title="Modelyard",
        version=__version__,
        description="A self-hosted machine-learning workspace: REST API.",
        # Served by install_api_docs instead: behind the login, and offline.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.ws = ws
    app.state.auth = auth
    app.state.local_caller = local_caller()
    for router in API_ROUTERS:
        # Each route names the role it needs (server/deps.py); the guard checked the token.
        app.include_router(router, prefix=API_PREFIX)
    install_portal(app)  # the login, and the old portal's addresses redirected into the app
    install_spa(app)  # the portal: the single-page app under /app/, behind the login
    install_api_docs(app)
    install_error_handlers(app)
    settings = ws.settings
    # Inside the guard (added later is outer): nothing is compressed for a refused request.
    app.add_middleware(
        GZipMiddleware,
        minimum_size=COMPRESSED_FROM_BYTES,
        compresslevel=COMPRESSION_LEVEL,
        exclude_content_types=NOT_COMPRESSED,
    )
    app.add_middleware(
        RequestGuard,
        allowed_hosts=allowed_host_names(bind_host, settings.allowed_hosts) | advertised_host(ws),
        authenticate=request_authenticator(ws) if auth else None,
        max_body_bytes=settings.max_json_kb * 1024,
        body_timeout_s=settings.request_body_timeout_s,
    )
    app.add_middleware(ReturnMemoryWhenIdle)
    return app


def advertised_host(ws: OpenWorkspace) -> frozenset[str]:
    """The host of the URL the server advertises to jobs on other machines (`ws.served_at`):
    a name it must answer to, since those jobs reach it by that name."""
    if ws.served_at is None:
        return frozenset()
    name = host_name(urlsplit(ws.served_at).netloc)
    return frozenset({name} if name else ())
