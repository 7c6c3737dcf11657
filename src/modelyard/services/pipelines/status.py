"""The steps of a pipeline run as `modelyard pipeline show` prints them: each step's current
run, its status, the run it reused and why it ran, read from the children's properties (the
same through a server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelyard.entities import RunStatus
from modelyard.services import runs
from modelyard.services.pipelines.pipeline_job import PIPELINE_TITLE
from modelyard.services.pipelines.steps import (
    REASON_PROPERTY,
    STEP_PROPERTY,
    STEPS_PROPERTY,
    StepReader,
    current_steps,
)
from modelyard.services.pipelines.submission import not_a_pipeline
from modelyard.services.workspaces import OpenWorkspace


@dataclass(frozen=True)
class StepStatus:
    step: str
    run_id: str
    status: RunStatus
    reused_from: str | None
    reason: str | None  # why it ran, or that it was reused
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "run_id": self.run_id,
            "status": self.status.value,
            "reused_from": self.reused_from,
            "reason": self.reason,
            "error": self.error,
        }


def pipeline_steps(ws: OpenWorkspace, run_id: str) -> list[StepStatus]:
    """Each step with a run in pipeline run `run_id`, in the pipeline's order."""
    parent = runs.get_run(ws, run_id)
    properties = ws.store.get_run_data(parent.id).properties
    order = [name for name in properties.get(STEPS_PROPERTY, "").split(",") if name]
    if STEPS_PROPERTY not in properties and parent.source.script != PIPELINE_TITLE:
        raise not_a_pipeline(parent.id, parent.source.script)
    found = current_steps(StepReader(ws.store).children(parent.id), parent.attempt)
    names = [name for name in order if name in found] + sorted(set(found) - set(order))
    return [
        StepStatus(
            step=name,
            run_id=found[name].run.id,
            status=found[name].status,
            reused_from=found[name].reused_from,
            reason=found[name].properties.get(REASON_PROPERTY),
            error=found[name].run.error,
        )
        for name in names
        if STEP_PROPERTY in found[name].properties
    ]
