"""The portal's pipeline designer over the API: its palette, judging a definition as it is
drawn, submitting one, and a pipeline run's graph with each step's state.

Readers read the palette, check definitions and read graphs; contributors submit. A
definition from a browser names no folder of the server's machine: a step that runs code names
a registered component, a data input a data asset (`services/pipelines/designer.py`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from modelyard.entities import Caller
from modelyard.server.deps import Contributor, Reader, RunReader, workspace_of
from modelyard.server.schemas import pipeline_designer as schemas
from modelyard.server.schemas.errors import error_responses
from modelyard.server.schemas.runs import Run
from modelyard.services.pipelines import designer, designer_palette
from modelyard.services.pipelines.designer import DesignerSubmission

router = APIRouter(tags=["pipeline designer"])

ROUTE = "/pipeline-designer"


@router.get(ROUTE + "/palette", dependencies=[Reader], response_model=schemas.Palette)
def show_palette(request: Request) -> dict[str, Any]:
    """The step types (with their ports and fields), port types and which feeds which, the
    latest components, computes and data assets."""
    return designer_palette.palette(workspace_of(request))


@router.post(ROUTE + "/check", dependencies=[Reader], response_model=schemas.DefinitionCheck)
def check_definition(body: schemas.CheckIn, request: Request) -> dict[str, Any]:
    """The definition's name and experiment, and its first problem (null: it would run)."""
    return designer.check_definition(workspace_of(request), body.definition).to_dict()


@router.post(
    ROUTE + "/submit",
    status_code=201,
    response_model=Run,
    responses=error_responses(404, 409),
)
def submit_definition(
    body: schemas.SubmitIn, request: Request, caller: Caller = Contributor
) -> dict[str, Any]:
    """Queue the definition as a pipeline run, as the caller's; refused, with nothing created,
    when it cannot run or a step runs code from a folder."""
    submission = DesignerSubmission(body.definition, body.experiment, body.draft)
    return designer.submit_definition(workspace_of(request), submission, caller.name).to_dict()


@router.get(
    "/runs/{run_id}/pipeline",
    dependencies=[RunReader],
    response_model=schemas.RunPipeline,
)
def show_run_pipeline(run_id: str, request: Request) -> dict[str, Any]:
    """A pipeline run's definition and its steps' states, for the designer's canvas."""
    return designer.run_graph(workspace_of(request), run_id).to_dict()
