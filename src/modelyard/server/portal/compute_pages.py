"""The portal's compute pages: every compute with its state and load, and one compute with its
size, the runs holding its nodes and its queue in order, each run with why it waits.

What they show comes from `services.computes` after the reaper has looked at the runs, so a run
whose process died is not shown holding a node.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from modelyard.server.deps import workspace_of
from modelyard.server.portal.rendering import PortalRoute, render
from modelyard.server.portal.session import page_user
from modelyard.services.computes import compute_details, list_compute_details
from modelyard.services.runs import reap_dead_runs

router = APIRouter(
    route_class=PortalRoute, include_in_schema=False, dependencies=[Depends(page_user)]
)


@router.get("/computes", response_class=HTMLResponse)
def computes_page(request: Request) -> Response:
    ws = workspace_of(request)
    reap_dead_runs(ws)
    return render(
        request, "computes.html", {"title": "Computes", "computes": list_compute_details(ws)}
    )


@router.get("/computes/{name}", response_class=HTMLResponse)
def compute_page(name: str, request: Request) -> Response:
    ws = workspace_of(request)
    reap_dead_runs(ws)
    details = compute_details(ws, name)  # an unknown name is a 404 page
    context = {
        "title": f"Compute {details.compute.name}",
        "details": details,
        "compute": details.compute,
        "size": details.compute.size_spec,
    }
    return render(request, "compute.html", context)
