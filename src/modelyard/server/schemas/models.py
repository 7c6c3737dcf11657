"""The model registry: request bodies of `routes/models.py` and the JSON of models, versions and
aliases (`entities/registry.py`)."""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import BaseModel, Field

from modelyard.entities import limits
from modelyard.server.schemas.common import ResponseModel, Timestamp

ModelName = Annotated[str, Field(min_length=1, max_length=limits.MODEL_NAME_MAX)]
RunId = Annotated[str, Field(min_length=1, max_length=limits.ID_MAX)]
Pairs = dict[Annotated[str, Field(max_length=limits.TAG_KEY_MAX)], str]

# A registration's archive; its members are checked by `services/model_upload.py`.
MODEL_ARCHIVE: Final[dict[str, Any]] = {
    "type": "string",
    "format": "binary",
    "description": "a tar archive: model.json (the request), then files/<path> for each file",
}


# Requests ---------------------------------------------------------------------------------------


class LineageIn(BaseModel):
    run_id: RunId | None = None
    experiment: Annotated[str, Field(max_length=255)] | None = None
    data_hash: Annotated[str, Field(max_length=128)] | None = None


class RunModelIn(BaseModel):
    """Register a run's artifact file or folder (its `outputs` by default)."""

    run_id: RunId
    path: Annotated[str, Field(min_length=1, max_length=limits.ARTIFACT_PATH_MAX)] = "outputs"
    description: Annotated[str, Field(max_length=limits.MODEL_DESCRIPTION_MAX)] | None = None
    tags: Pairs = Field(default_factory=dict)
    properties: Pairs = Field(default_factory=dict)
    framework: Annotated[str, Field(max_length=64)] | None = None
    input_schema: Any = None
    output_schema: Any = None
    lineage: LineageIn | None = None


class VersionUpdateIn(BaseModel):
    set_tags: Pairs = Field(default_factory=dict)
    delete_tags: list[Annotated[str, Field(max_length=limits.TAG_KEY_MAX)]] = Field(
        default_factory=list
    )
    add_properties: Pairs = Field(
        default_factory=dict, description="add-only: a changed value is refused (409)"
    )
    description: Annotated[str, Field(max_length=limits.MODEL_DESCRIPTION_MAX)] | None = None


class AliasIn(BaseModel):
    version: Annotated[int, Field(ge=1, le=2**31 - 1)]


# Responses --------------------------------------------------------------------------------------


class ModelFile(ResponseModel):
    path: str
    sha256: str
    size: int


class Lineage(ResponseModel):
    run_id: str | None = Field(description="the run the version came from")
    experiment: str | None
    data_hash: str | None = Field(description="the content hash of the data it was trained on")


class ModelVersion(ResponseModel):
    name: str
    version: int
    reference: str = Field(description="NAME:VERSION")
    files: list[ModelFile]
    size: int = Field(description="the files' bytes in all")
    created_at: Timestamp
    created_by: str
    description: str | None
    tags: dict[str, str]
    properties: dict[str, str]
    framework: str | None = Field(description="e.g. onnx-image-classification")
    input_schema: Any = Field(description="the model's input, as recorded (JSON), or null")
    output_schema: Any = Field(description="the model's output, as recorded (JSON), or null")
    lineage: Lineage
    aliases: list[str]


class RegisteredModel(ResponseModel):
    name: str
    created_at: Timestamp
    updated_at: Timestamp
    latest_version: int | None
    version_count: int
    aliases: dict[str, int] = Field(description="alias → version")


class ModelAlias(ResponseModel):
    name: str
    alias: str
    version: int


class ModelDeleted(ResponseModel):
    deleted: str
    versions: list[int]
