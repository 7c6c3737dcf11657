"""The FastAPI application factory: one workspace, one router per resource, one error mapping.

The REST API lives under /api/v1; the portal's pages (`server/portal/`) at the root.
Errors leave through one mapping (`server/errors.py`); bad input is a 4xx, never a 500.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from modelyard._version import __version__
from modelyard.server.api_docs import install_api_docs
from modelyard.server.deps import require_user
from modelyard.server.errors import install_error_handlers
from modelyard.server.portal.site import install_portal
from modelyard.server.routes import artifacts, experiments, jobs, portal_data, runs, workspace
from modelyard.services.workspaces import OpenWorkspace

API_PREFIX = "/api/v1"


def create_app(ws: OpenWorkspace, *, auth: bool = True) -> FastAPI:
    """The app over an open workspace; `auth=False` only for a server bound to 127.0.0.1."""
    app = FastAPI(
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
    guarded = [Depends(require_user)]
    for module in (workspace, experiments, runs, jobs, artifacts, portal_data):
        app.include_router(module.router, prefix=API_PREFIX, dependencies=guarded)
    install_portal(app)  # pages check the login cookie themselves and redirect to /login
    install_api_docs(app)
    install_error_handlers(app)
    return app
