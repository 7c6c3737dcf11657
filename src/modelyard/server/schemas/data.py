"""Data assets: request bodies of `routes/data.py` and the JSON of assets, versions, their
manifests and lineage (`entities/data.py`)."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, Field

from modelyard.server.schemas.common import ResponseModel, Timestamp

# A version's archive; its members are checked by `services/data_upload.py`.
DATA_ARCHIVE: Final[dict[str, Any]] = {
    "type": "string",
    "format": "binary",
    "description": "a tar archive: data.json (type, description, tags), then files/<path>",
}


class ArchivedIn(BaseModel):
    archived: bool


class DataVersion(ResponseModel):
    name: str
    version: int
    reference: str = Field(description="data:NAME:VERSION")
    type: str = Field(description="uri_folder, uri_file or table")
    content_hash: str = Field(description="SHA-256 of the manifest: the version's identity")
    file_count: int
    total_bytes: int
    created_at: Timestamp
    created_by: str
    description: str | None
    tags: dict[str, str]
    parent_version: int | None = Field(description="the latest version when this one was made")
    archived: bool


class DataCreated(ResponseModel):
    version: DataVersion
    created: bool = Field(description="false: the latest version holds this content already")


class DataAsset(ResponseModel):
    name: str
    created_at: Timestamp
    updated_at: Timestamp
    latest_version: int | None = Field(description="the latest version not archived")
    version_count: int
    archived: bool
    latest_type: str | None = Field(default=None, description="the latest version's type")
    latest_description: str | None = Field(
        default=None, description="the latest version's description"
    )


class ManifestEntry(ResponseModel):
    path: str
    size: int
    sha256: str


class LineageRun(ResponseModel):
    run_id: str
    experiment: str
    status: str
    input_name: str


class LineageModel(ResponseModel):
    name: str
    version: int
    run_id: str


class LineageDeployment(ResponseModel):
    endpoint: str
    deployment: str
    model: str = Field(description="NAME:VERSION")
    state: str


class DataLineage(ResponseModel):
    version: DataVersion
    runs: list[LineageRun] = Field(description="the runs that read this version")
    models: list[LineageModel] = Field(description="model versions registered from those runs")
    deployments: list[LineageDeployment] = Field(description="deployments serving those models")


class RunInput(ResponseModel):
    run_id: str
    input_name: str
    name: str
    version: int
    reference: str
