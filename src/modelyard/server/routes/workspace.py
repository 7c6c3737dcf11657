"""The workspace this server serves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from modelyard.server.deps import WorkspaceReader, workspace_of
from modelyard.server.schemas.workspace import Workspace

router = APIRouter(tags=["workspace"])


@router.get("/workspace", dependencies=[WorkspaceReader], response_model=Workspace)
def get_workspace(request: Request) -> dict[str, Any]:
    """Readers, and a job's token: a job on another machine opens its workspace with it."""
    record = workspace_of(request).workspace.to_dict()
    record.pop("store_uri", None)  # may hold database credentials
    return record
