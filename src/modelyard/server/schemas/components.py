"""Registered components: the JSON of components and their versions (`entities/components.py`)
for `routes/components.py`."""

from __future__ import annotations

from typing import Any, Final

from pydantic import Field

from modelyard.server.schemas.common import ResponseModel, Timestamp

# A version's archive; its members are checked by `services/component_upload.py`.
COMPONENT_ARCHIVE: Final[dict[str, Any]] = {
    "type": "string",
    "format": "binary",
    "description": "a tar archive: component.json (version, definition, code_hash), then"
    " files/<path> (the code)",
}


class ComponentVersion(ResponseModel):
    name: str
    version: int
    reference: str = Field(description="azureml:NAME:VERSION")
    type: str = Field(description="command")
    command: list[str]
    inputs: dict[str, dict[str, Any]] = Field(description="{type, default?, optional?} by name")
    outputs: dict[str, dict[str, Any]] = Field(description="{type} by name")
    environment: dict[str, Any] | None
    display_name: str | None
    description: str | None
    code_hash: str = Field(description="SHA-256 of the code snapshot's manifest")
    content_hash: str = Field(description="the definition and code together: the identity")
    created_at: Timestamp
    created_by: str
    archived: bool


class ComponentCreated(ResponseModel):
    version: ComponentVersion
    created: bool = Field(description="false: a version holds this content already")


class Component(ResponseModel):
    name: str
    created_at: Timestamp
    updated_at: Timestamp
    latest_version: int | None = Field(description="the latest version not archived")
    version_count: int
