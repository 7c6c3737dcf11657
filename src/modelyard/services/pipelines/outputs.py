"""A step's output registered as a data asset version (Azure v2's `name` on an output, the
step's or the pipeline output's it is bound to): once
the step has completed, its output folder becomes the next version of that asset through
`services.data` (content-hashed: unchanged content is the existing version). The version's
tags name the run that produced it, and the run's tag the version: lineage both ways."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from modelyard.entities import Run
from modelyard.entities.data import DataType, DataVersionRequest
from modelyard.entities.pipelines import StepOutput
from modelyard.services import data
from modelyard.services.pipelines.steps import StepRun
from modelyard.services.workspaces import OpenWorkspace

PRODUCED_BY_RUN_TAG: Final = "produced_by.run"
PRODUCED_BY_PIPELINE_TAG: Final = "produced_by.pipeline_run"
PRODUCED_BY_STEP_TAG: Final = "produced_by.step"


def output_tag(output: str) -> str:
    """The step run's tag holding the version its output `output` was registered as."""
    return f"pipeline.outputs.{output}.data"


def produced_by(child: StepRun, parent: Run) -> dict[str, str]:
    return {
        PRODUCED_BY_RUN_TAG: child.run.id,
        PRODUCED_BY_PIPELINE_TAG: parent.id,
        PRODUCED_BY_STEP_TAG: str(child.step),
    }


def register_output(
    ws: OpenWorkspace, path: Path, port: StepOutput, asset: str, tags: Mapping[str, str]
) -> data.DataCreated:
    """`path`, the output `port` of a step, as the next version of data asset `asset` (the
    step output's `name:` or its pipeline output's: `Pipeline.asset_of`)."""
    # A model's folder is versioned as any folder is (the registry is for models one names).
    kind = DataType.URI_FOLDER if port.type.is_folder else DataType(port.type.value)
    request = DataVersionRequest(
        asset,
        kind,
        description=f"output of pipeline step {tags.get(PRODUCED_BY_STEP_TAG)}",
        tags=dict(tags),
    )
    return data.create_data(ws, path, request)
