"""ScriptRunConfig: what to run (script + arguments), with what (environment), where (compute:
a name, or a `ComputeTarget`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from modelyard.environments import Environment
from modelyard.sdk._compute import ComputeTarget
from modelyard.services.jobs import ScriptJob


class ScriptRunConfig:
    """Stores its arguments only; they are checked when the job is submitted (as sklearn does)."""

    def __init__(
        self,
        source_directory: str | Path = ".",
        script: str | None = None,
        arguments: Sequence[object] | None = None,
        compute_target: str | ComputeTarget = "local",
        environment: Environment | None = None,
    ) -> None:
        self.source_directory = source_directory
        self.script = script
        self.arguments = list(arguments or [])
        self.compute_target = compute_target
        self.environment = environment

    def to_job(self, experiment: str, display_name: str | None = None) -> ScriptJob:
        return ScriptJob(
            experiment=experiment,
            source_directory=Path(self.source_directory).absolute(),
            script=self.script or "",
            arguments=tuple(str(argument) for argument in self.arguments),
            compute_target=(
                self.compute_target
                if isinstance(self.compute_target, str)
                else self.compute_target.name
            ),
            environment=self.environment or Environment.default(),
            display_name=display_name,
        )
