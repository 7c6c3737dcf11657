"""Published pipelines in Azure ML v1's SDK words::

    from modelyard import PublishedPipeline, Workspace, load_pipeline

    ws = Workspace.from_config()
    published = load_pipeline("pipeline.yml").publish("retrain", "nightly retraining", workspace=ws)
    run = published.submit(ws, "retrain", pipeline_parameters={"epochs": 5})
    PublishedPipeline.get(ws, "retrain")            # its default version
    PublishedPipeline.get(ws, "retrain", version=1)
    PublishedPipeline.list(ws)                      # each name's default version

`Pipeline` here is the SDK's pipeline (`sdk/_pipeline.py`) with `publish`: it lives above
`_objects`, whose `PipelineRun` an invocation returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelyard.entities.published_pipelines import PublishedPipelineVersion
from modelyard.sdk import _pipeline
from modelyard.sdk._objects import Experiment, PipelineRun, Workspace
from modelyard.services.pipelines import published

__all__ = ["Pipeline", "PublishedPipeline", "load_pipeline"]


class PublishedPipeline:
    """One version of a published pipeline: a pipeline run's template, with parameters."""

    def __init__(self, version: PublishedPipelineVersion) -> None:
        self._version = version

    @property
    def name(self) -> str:
        return self._version.name

    @property
    def version(self) -> int:
        return self._version.version

    @property
    def description(self) -> str:
        return self._version.description

    @property
    def enabled(self) -> bool:
        return self._version.enabled

    @property
    def parameters(self) -> dict[str, Any]:
        """Each parameter's default value, by name."""
        return {p.name: p.default for p in self._version.parameters}

    @classmethod
    def get(cls, workspace: Workspace, name: str, version: int | None = None) -> PublishedPipeline:
        """Version `version`, or the default version (the latest unless one was set)."""
        return cls(published.get_published_version(workspace._opened, name, version))

    @classmethod
    def list(cls, workspace: Workspace) -> list[PublishedPipeline]:
        """Each published pipeline's default version."""
        opened = workspace._opened
        return [
            cls(published.get_published_version(opened, p.name, p.effective_default))
            for p in published.list_published(opened)
        ]

    @classmethod
    def publish(
        cls, workspace: Workspace, pipeline: _pipeline.Pipeline, name: str, description: str = ""
    ) -> PublishedPipeline:
        """`pipeline` (loaded from its file or built by `@pipeline`) and its steps' code as the
        next version of published pipeline `name`."""
        return cls(published.publish_pipeline(workspace._opened, pipeline._job, name, description))

    @classmethod
    def from_run(cls, run: PipelineRun, name: str, description: str = "") -> PublishedPipeline:
        """Pipeline run `run`'s definition and code as the next version of `name` (Azure's
        `pipeline_run.publish_pipeline`)."""
        return cls(published.publish_pipeline_run(run._ws, run.id, name, description))

    def submit(
        self,
        workspace: Workspace,
        experiment_name: str,
        pipeline_parameters: Mapping[str, Any] | None = None,
    ) -> PipelineRun:
        """A pipeline run of this version with `pipeline_parameters` (each of its declared
        type) applied; refused before anything is created when one is unknown or wrong."""
        invocation = published.Invocation(
            name=self.name,
            version=self.version,
            experiment=experiment_name,
            parameters=dict(pipeline_parameters or {}),
        )
        run = published.invoke_published(workspace._opened, invocation)
        return PipelineRun(Experiment(workspace, run.experiment_name), run.id)

    def enable(self, workspace: Workspace) -> None:
        self._version = published.set_version_enabled(
            workspace._opened, self.name, self.version, True
        )

    def disable(self, workspace: Workspace) -> None:
        self._version = published.set_version_enabled(
            workspace._opened, self.name, self.version, False
        )

    def set_default(self, workspace: Workspace) -> None:
        """Invocations that name no version run this one from now on."""
        published.set_default_version(workspace._opened, self.name, self.version)

    def __repr__(self) -> str:
        return f"PublishedPipeline(name={self.name!r}, version={self.version})"


class Pipeline(_pipeline.Pipeline):
    """A pipeline as its file describes it, which can be published (a `@pipeline`-built one:
    `PublishedPipeline.publish(ws, pipeline, name)`; the DSL sits below this module)."""

    def publish(
        self, name: str, description: str = "", *, workspace: Workspace
    ) -> PublishedPipeline:
        """This pipeline and its steps' code as the next version of published pipeline
        `name` (Azure's `pipeline.publish`)."""
        return PublishedPipeline.publish(workspace, self, name, description)


def load_pipeline(path: str | Path, workspace: Workspace | None = None) -> Pipeline:
    """`workspace`: where steps naming a registered `component` find it."""
    return Pipeline.load(path, workspace)
