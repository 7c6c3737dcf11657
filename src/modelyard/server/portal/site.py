"""Adds the portal to the server's app: its pages, the login routes and the static assets."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from modelyard.server.portal import compute_pages, pages, session
from modelyard.server.portal.rendering import STATIC_DIR, STATIC_PREFIX


def install_portal(app: FastAPI) -> None:
    app.include_router(session.router)
    app.include_router(pages.router)
    app.include_router(compute_pages.router)
    # Public, like any login page's stylesheet: the assets hold no workspace data.
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
