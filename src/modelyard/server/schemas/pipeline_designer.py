"""The pipeline designer and its drafts: the request bodies of `routes/pipeline_designer.py`
and `routes/pipeline_drafts.py`, and their answers (`services/pipelines/designer.py`,
`designer_palette.py`, `drafts.py`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelyard.entities.pipeline_drafts import DEFINITION_MAX_CHARS, LAYOUT_MAX_NODES
from modelyard.server.schemas.common import Number, ResponseModel, Timestamp

Definition = Field(max_length=DEFINITION_MAX_CHARS, description="the pipeline's YAML text")


# The palette ------------------------------------------------------------------------------


class StepTypeInput(ResponseModel):
    name: str
    types: list[str] = Field(description="the port types it takes")
    required: bool


class StepTypeOutput(ResponseModel):
    name: str
    type: str


class StepTypeField(ResponseModel):
    name: str
    required: bool
    kind: str = Field(
        description="string, number, integer, boolean, mapping, list, or component (a registered"
        " component's reference, from the palette's components)"
    )
    default: Any = Field(description="null: none (or the job's own)")
    description: str


class StepType(ResponseModel):
    type: str = Field(description="command, or a built-in job's: image_classification, automl…")
    title: str
    description: str
    inputs: list[StepTypeInput] = Field(description="a built-in job's fixed ports; [] for command")
    outputs: list[StepTypeOutput]
    runs_code: bool = Field(
        description="it runs a script: from the designer only a registered component's (a"
        " sweep's trial: its field of kind component)"
    )
    fields: list[StepTypeField]


class PortTypeEntry(ResponseModel):
    type: str
    is_data: bool
    accepts: list[str] = Field(description="the types a port of this type may be fed from")


class ComponentInput(ResponseModel):
    name: str
    type: str
    optional: bool
    default: str | int | float | bool | None


class ComponentOutput(ResponseModel):
    name: str
    type: str


class PaletteComponent(ResponseModel):
    name: str
    version: int = Field(description="the latest version not archived")
    description: str
    inputs: list[ComponentInput]
    outputs: list[ComponentOutput]


class PaletteDataAsset(ResponseModel):
    name: str
    latest_version: int
    type: str | None = Field(description="uri_folder, uri_file or table")


class Palette(ResponseModel):
    step_types: list[StepType]
    port_types: list[PortTypeEntry]
    components: list[PaletteComponent]
    computes: list[str]
    data_assets: list[PaletteDataAsset]


# Checking and submitting ----------------------------------------------------------------------


class Problem(ResponseModel):
    message: str = Field(description="one line: the problem, the bad value and the fix")
    step: str | None = Field(description="the step it is about, if one")
    field: str | None = Field(description="the field it is about, if one: inputs.raw, command…")


class CheckIn(BaseModel):
    definition: str = Definition


class DefinitionCheck(ResponseModel):
    name: str = Field(description="the pipeline's display name")
    experiment: str | None
    problem: Problem | None = Field(description="null: the pipeline would run")


class SubmitIn(BaseModel):
    definition: str = Definition
    experiment: str | None = Field(
        default=None, max_length=255, description="instead of the definition's experiment_name"
    )
    draft: str | None = Field(
        default=None, max_length=255, description="the draft it was drawn in, recorded on the run"
    )


class PipelineStepState(ResponseModel):
    name: str
    run_id: str | None = Field(description="null: not submitted (yet)")
    status: str | None
    reused: bool = Field(description="an earlier run's outputs stand for this step")
    reason: str | None = Field(description="why it ran, or which run it reused")


class RunPipeline(ResponseModel):
    definition: str = Field(description="the run's pipeline as YAML")
    steps: list[PipelineStepState] = Field(description="in the definition's order")


# Drafts ---------------------------------------------------------------------------------------


class NodePosition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    x: Number
    y: Number


class DraftIn(BaseModel):
    definition: str = Definition
    layout: dict[str, NodePosition] | None = Field(
        default=None,
        max_length=LAYOUT_MAX_NODES,
        description="each node's position; null or absent keeps the saved layout",
    )
    revision: int | None = Field(
        default=None,
        ge=1,
        description="the revision the editor opened; absent: create the draft",
    )


class DraftSummary(ResponseModel):
    name: str
    revision: int
    created_at: Timestamp
    created_by: str
    updated_at: Timestamp
    updated_by: str


class Draft(DraftSummary):
    definition: str = Field(description="the YAML text exactly as saved")
    layout: dict[str, NodePosition]
    problem: Problem | None = Field(description="why it would not run now; null: it would")


class DraftDeleted(ResponseModel):
    deleted: str
