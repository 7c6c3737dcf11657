"""The workspace a server serves, as `Workspace.to_dict()` writes it without `store_uri`."""

from __future__ import annotations

from modelyard.server.schemas.common import ResponseModel, Timestamp


class Workspace(ResponseModel):
    name: str
    path: str
    location: str
    resource_group: str
    created_at: Timestamp
    server_url: str | None
