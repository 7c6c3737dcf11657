"""Adds the server-rendered part of the portal to the app: the login routes, the old portal's
addresses (redirects into the app) and the stylesheet of the pages still rendered here."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from modelyard.server.portal import redirects, session
from modelyard.server.portal.rendering import STATIC_DIR, STATIC_PREFIX


def install_portal(app: FastAPI) -> None:
    app.include_router(session.router)
    app.include_router(redirects.router)
    # Public, like any login page's stylesheet: the assets hold no workspace data.
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
