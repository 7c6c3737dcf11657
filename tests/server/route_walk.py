"""Every route a server app answers, found by walking the app itself (not a list kept by hand),
and what each route outside the API is: the tests of the login and of the request guard hold
each kind to its rule, and a route that is none of these fails them until it is placed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from fastapi import FastAPI
from starlette.routing import Mount

API_PREFIX: Final = "/api/"
# Open to anyone: the login itself, and redirects (the page they lead to asks for the login).
PUBLIC_PAGES: Final = frozenset(
    {
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("GET", "/app"),  # → /app/
        # The old portal's addresses, moved into the app (server/portal/redirects.py).
        ("GET", "/"),
        ("GET", "/experiments"),
        ("GET", "/experiments/{name}"),
        ("GET", "/runs"),
        ("GET", "/runs/{run_id}"),
        ("GET", "/runs/{run_id}/artifact"),
        ("GET", "/runs/{run_id}/file"),
        ("GET", "/compare"),
        ("GET", "/computes"),
        ("GET", "/computes/{name}"),
    }
)
# Behind the login cookie: no cookie, a redirect to the login page.
LOGIN_PAGES: Final = frozenset({("GET", "/app/{route:path}"), ("GET", "/docs")})
# Behind a token like the API: no token, 401.
TOKEN_ROUTES: Final = frozenset({("GET", "/openapi.json")})
# Static files that hold no workspace data: public.
PUBLIC_MOUNTS: Final = frozenset({"/static", "/app/assets", "/docs-assets"})


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route, HEAD aside; ("MOUNT", path) for a mounted folder."""
    found: set[tuple[str, str]] = set()
    _walk(app.router.routes, "", found)
    return found


def _walk(routes: Iterable[Any], prefix: str, found: set[tuple[str, str]]) -> None:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:  # newer FastAPI keeps an included router whole
            _walk(included.routes, prefix + route.include_context.prefix, found)
        elif isinstance(route, Mount):
            found.add(("MOUNT", prefix + route.path))
        else:
            found.update((method, prefix + route.path) for method in route.methods - {"HEAD"})


def page_routes(app: FastAPI) -> set[tuple[str, str]]:
    """The routes outside the REST API."""
    return {route for route in served_routes(app) if not route[1].startswith(API_PREFIX)}


def concrete(path: str) -> str:
    """A path with a value in each parameter: `/runs/{run_id}` → `/runs/x`."""
    return path.replace("{route:path}", "runs/x").replace("{run_id}", "x").replace("{name}", "x")
