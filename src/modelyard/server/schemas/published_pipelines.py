"""Published pipelines: the request bodies of `routes/published_pipelines.py` and the JSON of
published pipelines and their versions (`entities/published_pipelines.py`)."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, Field

from modelyard.server.schemas.common import ResponseModel, Timestamp

# A version's archive: a pipeline staged as a pipeline job's driver snapshot is.
PIPELINE_ARCHIVE: Final[dict[str, Any]] = {
    "type": "string",
    "format": "binary",
    "description": "a tar archive: job.json ({description}), then snapshot/pipeline.json and"
    " snapshot/steps/<step>/…, as the SDK packs a pipeline",
}


class PublishRunIn(BaseModel):
    """Publish a pipeline run's definition and code (its driver's snapshot)."""

    run_id: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=5000)


class DefaultVersionIn(BaseModel):
    version: int = Field(ge=1)


class InvokeIn(BaseModel):
    """Azure's `ExperimentName` and `ParameterAssignments`."""

    experiment_name: str | None = Field(
        default=None, description="default: the pipeline's own experiment"
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="values of the version's parameters by name, each of its declared type;"
        " a data parameter takes a data asset reference (data:NAME@latest)",
    )
    display_name: str | None = None


class PipelineParameter(ResponseModel):
    name: str
    type: str = Field(
        description="uri_folder, uri_file, custom_model, string, number, integer or boolean"
    )
    default: str | int | float | bool


class PublishedPipelineVersion(ResponseModel):
    name: str
    version: int
    description: str
    pipeline: str = Field(description="the pipeline's own name")
    parameters: list[PipelineParameter]
    enabled: bool
    created_by: str
    created_at: Timestamp
    source_run: str | None = Field(description="the pipeline run it was published from")


class PublishedPipeline(ResponseModel):
    name: str
    description: str
    latest_version: int
    default_version: int
    default_is_latest: bool = Field(description="no default set: the latest version runs")
    created_by: str
    created_at: Timestamp


class PublishedPipelineDetails(PublishedPipeline):
    versions: list[PublishedPipelineVersion] = Field(description="newest first")


class PipelineRunStarted(ResponseModel):
    run_id: str
    portal_url: str = Field(description="the run's page in the portal")
    published_pipeline: str
    version: int
