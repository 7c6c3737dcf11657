"""Serving the portal, a single-page app: its page for every path under `/app/`, its assets
cached for good.

The page (`index.html`) is the same for every route of the app, which routes in the browser:
`/app/runs?experiment=flowers` and `/app/runs/<id>` answer it too. It sits behind the login
(`server/portal/session.py`; no cookie: a redirect to `/login?next=…`), and carries the
headers of every page (`server/portal/rendering.py`): the strict Content-Security-Policy
(scripts and styles only from this server), and `no-store`. The app then reads `/api/v1` with
the login cookie (`server/deps.py`: a cookie authenticates reads; a change also needs the
`X-Modelyard-Portal` header, which the app's client sends; the request guard refuses changes
from another site's page).

Vite names each asset by a hash of its content (`assets/index-3f2a9c1b.js`), so an asset never
changes under its name: it is served with a year's `immutable` cache, and a new build is new
names in a new page. A missing asset is a 404, never the page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from modelyard.errors import NotFound
from modelyard.server.portal.rendering import PortalRoute
from modelyard.server.portal.session import page_user

APP_PREFIX: Final = "/app"
DIST_DIR: Final = Path(__file__).parent / "dist"
ASSETS_PREFIX: Final = f"{APP_PREFIX}/assets"
ASSET_CACHE: Final = "public, max-age=31536000, immutable"

router = APIRouter(
    route_class=PortalRoute, include_in_schema=False, dependencies=[Depends(page_user)]
)


class HashedAssets(StaticFiles):
    """Vite's content-hashed files: cached by browsers for a year without asking again."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = ASSET_CACHE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@router.get(APP_PREFIX)
def app_root() -> Response:
    return RedirectResponse(f"{APP_PREFIX}/", status_code=308)


@router.get(APP_PREFIX + "/{route:path}", response_class=HTMLResponse)
def app_page(route: str) -> Response:
    """The app's page for any of its routes (the browser-side router reads the path)."""
    return HTMLResponse(app_index_html())


def app_index_html() -> bytes:
    index = DIST_DIR / "index.html"
    try:
        return index.read_bytes()
    except FileNotFoundError:
        raise NotFound(
            f"the portal app is not built in this installation ({index} is missing): run"
            " `make portal` in a source checkout (Node.js 20 and npm), or install a wheel"
            " built after it",
            path=str(index),
        ) from None


def install_spa(app: FastAPI) -> None:
    # The assets first: a route for every path under /app would answer their paths too.
    assets = HashedAssets(directory=DIST_DIR / "assets", check_dir=False)
    app.mount(ASSETS_PREFIX, assets, name="app-assets")
    app.include_router(router)
