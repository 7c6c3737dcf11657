"""What a pipeline submits: its driver as a built-in job, the pipeline as `pipeline.json` and
each step's code as `steps/<name>/` in the driver's snapshot."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from modelyard.entities import RunSource, validate_experiment_name
from modelyard.entities.compute import LOCAL
from modelyard.entities.pipelines import Pipeline
from modelyard.errors import NotFound
from modelyard.services.jobs import ModuleJob, check_script_path

PIPELINE_MODULE: Final = "modelyard.builtin_jobs.pipeline"
PIPELINE_TITLE: Final = "pipeline (built-in)"
CONFIG_FILE: Final = "pipeline.json"
STEPS_CODE: Final = "steps"  # each step's code, in the driver's snapshot: steps/<name>/
# The driver runs beside the workspace's database, as a sweep's does: on the built-in `local`
# compute, which has no node limit, so it never takes a node its steps need.
DRIVER_COMPUTE: Final = LOCAL


@dataclass(frozen=True)
class RerunOptions:
    """How a run of the pipeline treats its steps' earlier runs."""

    force_rerun: bool = False  # every step runs (`--force-rerun`)
    from_step: str | None = None  # this step and its dependants run, the rest reuse `source_run`
    source_run: str | None = None  # the pipeline run a rerun was made from

    def to_dict(self) -> dict[str, Any]:
        return {
            "force_rerun": self.force_rerun,
            "from_step": self.from_step,
            "source_run": self.source_run,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RerunOptions:
        return cls(
            force_rerun=bool(data.get("force_rerun")),
            from_step=data.get("from_step"),
            source_run=data.get("source_run"),
        )


@dataclass(frozen=True)
class PipelineJob:
    """A pipeline whose steps' `code` are folders on this machine."""

    pipeline: Pipeline
    display_name: str | None = None
    source: RunSource | None = None
    options: RerunOptions = field(default_factory=RerunOptions)

    @property
    def experiment(self) -> str:
        return self.pipeline.experiment

    def validate(self) -> None:
        validate_experiment_name(self.experiment)
        self.pipeline.check()
        for step in self.pipeline.steps.values():
            if not step.type.runs_code:  # a built-in job: Modelyard's code
                continue
            code = Path(step.code)
            if not code.is_dir():
                raise NotFound(
                    f"step {step.name!r} code folder {step.code!r} does not exist: set its"
                    " 'code' to the folder that holds its script",
                    step=step.name,
                    field="code",
                )
            check_script_path(code, step.script)
        if self.options.from_step is not None:
            self.pipeline.require_step(self.options.from_step)

    def with_options(self, options: RerunOptions) -> PipelineJob:
        return replace(self, options=options)

    def to_module_job(self) -> ModuleJob:
        return ModuleJob(
            experiment=self.experiment,
            module=PIPELINE_MODULE,
            arguments=("--config", CONFIG_FILE),
            files={CONFIG_FILE: config_bytes(self.pipeline, self.options)},
            folders={
                f"{STEPS_CODE}/{name}": Path(step.code)
                for name, step in self.pipeline.steps.items()
                if step.type.runs_code
            },
            compute_target=DRIVER_COMPUTE,
            display_name=self.display_name,
            source=self.source or RunSource(script=PIPELINE_TITLE),
        )


def config_bytes(pipeline: Pipeline, options: RerunOptions) -> bytes:
    """The pipeline with each step's code as its folder in the driver's snapshot."""
    steps = {
        name: replace(step, code=f"{STEPS_CODE}/{name}") if step.type.runs_code else step
        for name, step in pipeline.steps.items()
    }
    data = {"pipeline": replace(pipeline, steps=steps).to_dict(), "options": options.to_dict()}
    return json.dumps(data, indent=2, sort_keys=True).encode()
