"""The SDK's Experiment: a named group of runs, registered in the workspace by its first run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from modelyard.entities import RunStatus, validate_experiment_name
from modelyard.sdk._script_run_config import ScriptRunConfig
from modelyard.services import jobs, training
from modelyard.services.experiments import delete_experiment
from modelyard.vision.config import ImageClassificationConfig

if TYPE_CHECKING:
    from modelyard.sdk._run import Run
    from modelyard.sdk._workspace import Workspace


class Experiment:
    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        self.name = validate_experiment_name(name)

    def submit(
        self,
        config: ScriptRunConfig | ImageClassificationConfig,
        display_name: str | None = None,
    ) -> Run:
        """Queue a script (ScriptRunConfig) or a built-in trainer (ImageClassificationConfig)."""
        from modelyard.sdk._run import Run

        ws = self.workspace._opened
        if isinstance(config, ImageClassificationConfig):
            record = training.submit_image_classification(ws, self.name, config, display_name)
        else:
            record = jobs.submit(ws, config.to_job(self.name, display_name))
        return Run(self, record.id)

    def start_logging(self, display_name: str | None = None) -> Run:
        """An interactive run in this process (a notebook, a script run by hand)."""
        from modelyard.sdk._run import Run

        return Run.start_interactive(self, display_name)

    def get_runs(self, statuses: list[RunStatus] | None = None) -> Iterator[Run]:
        from modelyard.sdk._run import Run

        store = self.workspace._opened.store
        for record in store.list_runs(self.name, statuses=statuses):
            yield Run(self, record.id)

    def delete(self) -> None:
        delete_experiment(self.workspace._opened, self.name)

    def __repr__(self) -> str:
        return f"Experiment(workspace={self.workspace.name!r}, name={self.name!r})"
