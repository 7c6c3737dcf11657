"""The old portal's addresses, kept working: each answers a redirect to the same page in the app.

Links to the server-rendered portal (bookmarks, CLI output, notes) predate the app under /app/;
each lands on its page there, the query carried over where the app reads the same one. They
are public, like any redirect: the app's page asks for the login itself.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from modelyard.server.portal.rendering import APP_HOME

# 308: permanent, and a browser keeps the method (only GET and HEAD are routed here).
MOVED: Final = 308
OLD_PAGE_SIZE: Final = 50  # the old runs table's rows per page, when its URL named none

router = APIRouter(include_in_schema=False)


def _moved(path: str, query: str = "") -> RedirectResponse:
    return RedirectResponse(APP_HOME + path + (f"?{query}" if query else ""), status_code=MOVED)


def _segment(value: str) -> str:
    return quote(value, safe="")


@router.get("/")
def overview() -> RedirectResponse:
    return _moved("")


@router.get("/experiments")
def experiments() -> RedirectResponse:
    return _moved("experiments")


@router.get("/experiments/{name}")
def experiment_runs(name: str, request: Request) -> RedirectResponse:
    """The experiment's runs table: the app's runs table with the experiment as a filter."""
    return _moved("runs", urlencode([("experiment", name), *_runs_query(request)]))


@router.get("/runs")
def runs(request: Request) -> RedirectResponse:
    return _moved("runs", urlencode(_runs_query(request)))


def _runs_query(request: Request) -> list[tuple[str, str]]:
    """The old table's query in the app's words: its filters and sort as they were, a box of
    comma-separated filters as one filter each, `page` and `size` as `offset` and `limit`."""
    params = request.query_params
    kept: list[tuple[str, str]] = []
    for key, value in params.multi_items():
        if key in ("tag", "metric"):
            kept += [(key, part.strip()) for part in value.split(",") if part.strip()]
        elif key not in ("page", "size"):
            kept.append((key, value))
    size = _positive(params.get("size"), OLD_PAGE_SIZE)
    page = _positive(params.get("page"), 1)
    if "size" in params:
        kept.append(("limit", str(size)))
    if page > 1:
        kept.append(("offset", str((page - 1) * size)))
    return kept


def _positive(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() and int(text) > 0 else default


@router.get("/runs/{run_id}")
def run(run_id: str) -> RedirectResponse:
    return _moved(f"runs/{_segment(run_id)}")


@router.get("/runs/{run_id}/artifact")
@router.get("/runs/{run_id}/file")
def artifact(run_id: str, path: str = "") -> RedirectResponse:
    """An artifact's preview (and the old link to its bytes): the run page showing it."""
    return _moved(f"runs/{_segment(run_id)}", urlencode({"artifact": path}) if path else "")


@router.get("/compare")
def compare(request: Request) -> RedirectResponse:
    """`?run=a&run=b` (the old form's boxes) becomes the app's `?runs=a,b`."""
    picked = [value for key, value in request.query_params.multi_items() if key == "run"]
    others = [(key, v) for key, v in request.query_params.multi_items() if key != "run"]
    runs = [("runs", ",".join(picked))] if picked else []
    return _moved("compare", urlencode(runs + others, safe=","))


@router.get("/computes")
def computes() -> RedirectResponse:
    return _moved("computes")


@router.get("/computes/{name}")
def compute(name: str) -> RedirectResponse:
    return _moved(f"computes/{_segment(name)}")
