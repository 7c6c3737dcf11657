"""The portal's pipeline designer, server side: judging a pipeline YAML as it is being drawn,
submitting one from the browser, and a pipeline run's graph with each step's state.

The designer edits the same YAML the CLI submits (`pipeline_file.py`), so it is read here by
the same code (`pipeline_from_dict` with the workspace's components, then `Pipeline.check()`).
A definition that cannot run yet is no error to the designer: `check_definition` answers its
first problem, one line with the step and field it is about, for the canvas to point at.

What a browser cannot send is a folder of code: a step that runs code (a command, a sweep's
trial) must name a registered component (`component:`, a sweep's `trial:`); nothing is created
when one does not.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from modelyard.entities import Run, RunSource, validate_experiment_name
from modelyard.entities.data import is_data_reference
from modelyard.entities.names import validate_pipeline_draft_name
from modelyard.entities.pipelines import Pipeline, StepType
from modelyard.errors import InvalidValue, ModelyardError, NotFound
from modelyard.services import components, jobs
from modelyard.services.pipelines.pipeline_file import pipeline_from_dict
from modelyard.services.pipelines.pipeline_job import CONFIG_FILE, PIPELINE_TITLE, PipelineJob
from modelyard.services.pipelines.status import pipeline_steps
from modelyard.services.pipelines.submission import driver_snapshot, submit_pipeline
from modelyard.services.workspaces import OpenWorkspace

DRAFT_PROPERTY: Final = "modelyard.pipeline_draft"  # the draft a designer's run was made from
DEFAULT_NAME: Final = "pipeline"


@dataclass(frozen=True)
class Problem:
    """Why a definition cannot run (yet): one line, and where, when it is about a step."""

    message: str
    step: str | None = None
    field: str | None = None

    @classmethod
    def of(cls, error: InvalidValue | NotFound) -> Problem:
        context = error.context
        step, field = context.get("step"), context.get("field")
        return cls(
            message=" ".join(error.message.split()),
            step=None if step is None else str(step),
            field=None if field is None else str(field),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "step": self.step, "field": self.field}


@dataclass(frozen=True)
class DefinitionCheck:
    name: str  # the pipeline's display name
    experiment: str | None
    problem: Problem | None

    def to_dict(self) -> dict[str, Any]:
        problem = None if self.problem is None else self.problem.to_dict()
        return {"name": self.name, "experiment": self.experiment, "problem": problem}


def parse_definition(text: str) -> dict[str, Any]:
    """The YAML text's mapping; refused in one line (with the line number) when it is none."""
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise InvalidValue(
            "the definition is nested too deeply to read: a pipeline is a few levels deep",
            field="definition",
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "unreadable"
        raise InvalidValue(
            f"the definition is not valid YAML{where} ({problem}): fix the syntax",
            field="definition",
        ) from None
    if not isinstance(data, dict):
        raise InvalidValue(
            f"the definition is {type(data).__name__}, not a mapping: write a pipeline, as in"
            " 'type: pipeline', 'experiment_name: …', 'jobs: {…}'",
            field="definition",
        )
    return data


def check_definition(
    ws: OpenWorkspace, text: str, default_name: str = DEFAULT_NAME
) -> DefinitionCheck:
    """The definition's name and experiment, and its first problem (None: it would run,
    code folders aside: a draft has none)."""
    try:
        data = parse_definition(text)
    except InvalidValue as error:
        return DefinitionCheck(default_name, None, Problem.of(error))
    name = str(data.get("display_name") or default_name)
    experiment = data.get("experiment_name")
    experiment = None if experiment is None else str(experiment)
    try:
        read_pipeline(ws, data, default_name)
    except (InvalidValue, NotFound) as error:
        return DefinitionCheck(name, experiment, Problem.of(error))
    return DefinitionCheck(name, experiment, None)


def read_pipeline(ws: OpenWorkspace, data: Mapping[str, Any], default_name: str) -> Pipeline:
    """The pipeline as `modelyard job create -f` reads it, checked whole. Relative paths are
    taken from an empty folder: a definition from a browser names no file of this machine."""
    kind = str(data.get("type") or "pipeline").strip().lower()
    if kind != "pipeline":
        raise InvalidValue(
            f"the definition has type {data['type']!r}: the designer edits 'type: pipeline'",
            field="type",
        )
    with tempfile.TemporaryDirectory(prefix="modelyard-designer-") as empty:
        lookup = components.step_component_lookup(ws)
        pipeline = pipeline_from_dict(data, Path(empty), default_name, lookup).check()
    try:
        validate_experiment_name(pipeline.experiment)
    except InvalidValue as error:
        raise InvalidValue(error.message, field="experiment_name") from None
    _check_computes(ws, pipeline)
    return pipeline


def _check_computes(ws: OpenWorkspace, pipeline: Pipeline) -> None:
    """Each step's compute exists and takes jobs, as a submission will require."""
    for step in pipeline.steps.values():
        compute = pipeline.compute_of(step)
        try:
            jobs.check_compute_takes_jobs(ws, compute)
        except ModelyardError as error:
            field = "compute" if step.compute is not None else "settings.default_compute"
            raise InvalidValue(
                f"step {step.name!r}: {error.message}", step=step.name, field=field
            ) from None


# Submitting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesignerSubmission:
    definition: str  # the YAML text
    experiment: str | None = None  # instead of the definition's experiment_name
    draft: str | None = None  # the draft it was drawn in, recorded on the run


def submit_definition(
    ws: OpenWorkspace, submission: DesignerSubmission, user: str | None = None
) -> Run:
    """Queue the definition as `modelyard job create -f` would; refused in one line, with
    nothing created, when it cannot run or a step needs a folder of code."""
    data = parse_definition(submission.definition)
    if submission.experiment:
        data = {**data, "experiment_name": submission.experiment}
    if submission.draft is not None:
        validate_pipeline_draft_name(submission.draft)
    pipeline = read_pipeline(ws, data, submission.draft or DEFAULT_NAME)
    _refuse_code_folders(pipeline)
    _refuse_local_data(pipeline)
    arguments = ("--draft", submission.draft) if submission.draft else ()
    job = PipelineJob(
        pipeline=pipeline,
        source=RunSource(script=PIPELINE_TITLE, arguments=("designer", *arguments)),
    )
    properties = {DRAFT_PROPERTY: submission.draft} if submission.draft else None
    return submit_pipeline(ws, job, user=user, properties=properties)


def _refuse_code_folders(pipeline: Pipeline) -> None:
    for step in pipeline.steps.values():
        if step.type.runs_code and step.component is None:
            # A sweep names its component as its trial; a command step as its component.
            field = "trial" if step.type is StepType.SWEEP else "component"
            raise InvalidValue(
                f"step {step.name!r} runs code from a folder, which a browser cannot send:"
                " register the code as a component (`modelyard component create -f"
                f" COMPONENT.yml`) and give the step '{field}: NAME:VERSION', or submit the"
                " file with `modelyard job create -f FILE`",
                step=step.name,
                field="trial" if field == "trial" else "code",
            )


def _refuse_local_data(pipeline: Pipeline) -> None:
    for name, port in pipeline.inputs.items():
        if port.type.is_data and not is_data_reference(str(port.value)):
            raise InvalidValue(
                f"pipeline input {name!r} is a path, which the designer cannot send: create a"
                " data asset of it (`modelyard data create NAME --path …`) and set its 'path'"
                " to data:NAME@latest",
                field=f"inputs.{name}",
            )


# A run's graph ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepState:
    name: str
    run_id: str | None  # None: not submitted yet (or never: an upstream step failed)
    status: str | None
    reused: bool
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "run_id": self.run_id,
            "status": self.status,
            "reused": self.reused,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RunGraph:
    definition: str  # the run's pipeline as YAML text (its pipeline.json's dict form)
    steps: list[StepState]  # in the definition's order

    def to_dict(self) -> dict[str, Any]:
        return {"definition": self.definition, "steps": [s.to_dict() for s in self.steps]}


def run_graph(ws: OpenWorkspace, run_id: str) -> RunGraph:
    """Pipeline run `run_id`'s definition and each step's current state."""
    try:
        found = {status.step: status for status in pipeline_steps(ws, run_id)}
        snapshot = driver_snapshot(ws, run_id)
    except InvalidValue as error:  # not a pipeline run: there is no graph to show
        raise NotFound(error.message, **error.context) from None
    pipeline = json.loads((snapshot / CONFIG_FILE).read_bytes())["pipeline"]
    steps = []
    for name in pipeline.get("jobs") or {}:
        status = found.get(name)
        steps.append(
            StepState(
                name=name,
                run_id=None if status is None else status.run_id,
                status=None if status is None else status.status.value,
                reused=status is not None and status.reused_from is not None,
                reason=None if status is None else status.reason,
            )
        )
    definition = yaml.safe_dump(pipeline, sort_keys=False, allow_unicode=True)
    return RunGraph(definition, steps)
