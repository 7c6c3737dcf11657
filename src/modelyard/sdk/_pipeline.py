"""A pipeline for the SDK (Azure's `load_job` of a pipeline job): loaded from its YAML and
submitted with `Experiment.submit(pipeline)`, which returns a `PipelineRun`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Self

from modelyard.errors import InvalidValue
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.pipeline_job import PipelineJob, RerunOptions


class Pipeline:
    """A pipeline as its file describes it; `Pipeline.load(path)` or `load_pipeline(path)`."""

    def __init__(self, job: PipelineJob) -> None:
        self._job = job

    @classmethod
    def load(cls, path: str | Path, workspace: Any = None) -> Self:
        """`workspace` (the SDK's `Workspace`): where steps naming a registered `component`
        find it."""
        job = load_job_file(Path(path), None if workspace is None else workspace._opened)
        if not isinstance(job, PipelineJob):
            raise InvalidValue(
                f"{path} is not a pipeline file: give it 'type: pipeline' and its steps under"
                " 'jobs'",
                path=str(path),
            )
        return cls(job)

    @property
    def name(self) -> str:
        return self._job.pipeline.name

    @property
    def steps(self) -> list[str]:
        """The steps, each after those it reads."""
        return self._job.pipeline.order()

    def to_job(self, experiment: str, display_name: str | None, force_rerun: bool) -> PipelineJob:
        """The job to submit in `experiment` (the submitting experiment's, as for any run)."""
        pipeline = replace(self._job.pipeline, experiment=experiment)
        return replace(
            self._job,
            pipeline=pipeline,
            display_name=display_name,
            options=RerunOptions(force_rerun=force_rerun),
        )

    def __repr__(self) -> str:
        return f"Pipeline(name={self.name!r}, steps={self.steps!r})"
