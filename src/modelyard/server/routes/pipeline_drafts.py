"""Pipeline drafts over the API (Azure's designer drafts): list, read, save, delete.

Readers read; contributors save and delete. A save names the revision its editor opened
(none: create the draft); one over an older revision is refused with 409 (reload the draft).
Each read and save answers the draft's `problem`: why it would not run now.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from modelyard.entities import Caller
from modelyard.server.deps import Contributor, Reader, workspace_of
from modelyard.server.schemas import pipeline_designer as schemas
from modelyard.server.schemas.errors import error_responses
from modelyard.services.pipelines import drafts

router = APIRouter(tags=["pipeline drafts"])

ROUTE = "/pipeline-drafts"


@router.get(ROUTE, dependencies=[Reader], response_model=list[schemas.DraftSummary])
def list_drafts(request: Request) -> list[dict[str, Any]]:
    return [draft.to_dict() for draft in drafts.list_drafts(workspace_of(request))]


@router.get(ROUTE + "/{name}", dependencies=[Reader], response_model=schemas.Draft)
def show_draft(name: str, request: Request) -> dict[str, Any]:
    return drafts.get_draft(workspace_of(request), name).to_dict()


@router.put(
    ROUTE + "/{name}",
    response_model=schemas.Draft,
    responses=error_responses(404, 409),
)
def save_draft(
    name: str, body: schemas.DraftIn, request: Request, caller: Caller = Contributor
) -> dict[str, Any]:
    """Create the draft (no `revision`) or save over the revision the editor opened."""
    layout = None
    if body.layout is not None:
        layout = {node: position.model_dump() for node, position in body.layout.items()}
    saved = drafts.save_draft(
        workspace_of(request),
        name,
        body.definition,
        layout=layout,
        revision=body.revision,
        user=caller.name,
    )
    return saved.to_dict()


@router.delete(
    ROUTE + "/{name}",
    dependencies=[Contributor],
    response_model=schemas.DraftDeleted,
    responses=error_responses(404),
)
def delete_draft(name: str, request: Request) -> dict[str, Any]:
    drafts.delete_draft(workspace_of(request), name)
    return {"deleted": name}
