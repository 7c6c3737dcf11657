"""What a sweep submits: its driver as a built-in job, the trial's code, the data its trials
carry and the sweep's config in the driver's snapshot (`trial/`, `trial_inputs/`, `sweep.json`)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from modelyard.entities import RunSource, validate_experiment_name
from modelyard.entities.compute import LOCAL
from modelyard.entities.sweep import SweepConfig
from modelyard.environments import Environment
from modelyard.errors import InvalidValue, NotFound
from modelyard.services.jobs import ModuleJob, check_script_path

SWEEP_MODULE: Final = "modelyard.builtin_jobs.sweep"
SWEEP_TITLE: Final = "sweep (built-in)"
CONFIG_FILE: Final = "sweep.json"
TRIAL_CODE: Final = "trial"  # the trial's code, in the sweep's snapshot
TRIAL_INPUTS: Final = "trial_inputs"  # the data its trials carry, in the sweep's snapshot
# The driver runs beside the workspace's database, as Azure's runs in its service: on the
# built-in `local` compute, which has no node limit, so it never takes a node its trials need.
DRIVER_COMPUTE: Final = LOCAL


@dataclass(frozen=True)
class TrialFiles:
    """What each trial's snapshot holds besides its code: the data inputs it carries where
    the trials' compute can't read this disk (a pipeline sweep's: its snapshot path → the file
    or folder, which the sweep's own snapshot keeps under `trial_inputs/`), and the folders
    made in its `outputs/` (a component trial's `${{outputs.NAME}}`)."""

    inputs: Mapping[str, Path] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()

    def in_sweep_snapshot(self) -> dict[str, Path]:
        """The inputs as the sweep's snapshot holds them (its path → the local copy)."""
        return {f"{TRIAL_INPUTS}/{path}": source for path, source in self.inputs.items()}

    def under(self, snapshot: Path) -> TrialFiles:
        """As read back from `sweep.json`: the inputs in the sweep's `snapshot`."""
        return replace(self, inputs={p: snapshot / TRIAL_INPUTS / p for p in self.inputs})

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": sorted(self.inputs), "outputs": list(self.outputs)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialFiles:
        """Paths relative to the sweep's snapshot (`under` places them)."""
        return cls({str(p): Path(p) for p in data["inputs"]}, tuple(map(str, data["outputs"])))


@dataclass(frozen=True)
class SweepJob:
    experiment: str
    config: SweepConfig
    code: Path  # the trial's source folder
    environment: Environment = field(default_factory=Environment.default)  # the trial's
    display_name: str | None = None
    source: RunSource | None = None
    trial_files: TrialFiles = field(default_factory=TrialFiles)

    def validate(self) -> None:
        validate_experiment_name(self.experiment)
        self.config.check()
        if not self.code.is_dir():
            raise NotFound(
                f"trial code folder {str(self.code)!r} does not exist: set trial.code to the"
                " folder that holds the trial's script",
                path=str(self.code),
            )
        check_script_path(self.code, self.config.trial.script)

    def with_seed(self) -> SweepJob:
        """A random sweep without a seed gets one now, kept in its config: a resumed driver
        draws the same values for the same trial numbers."""
        return replace(self, config=self.config.with_seed(secrets.randbelow(2**31)))

    def to_module_job(self) -> ModuleJob:
        return ModuleJob(
            experiment=self.experiment,
            module=SWEEP_MODULE,
            arguments=("--config", CONFIG_FILE),
            files={CONFIG_FILE: config_bytes(self.config, self.environment, self.trial_files)},
            folders={TRIAL_CODE: self.code},
            input_files=self.trial_files.in_sweep_snapshot(),
            compute_target=DRIVER_COMPUTE,
            display_name=self.display_name,
            source=self.source or RunSource(script=SWEEP_TITLE),
        )


def config_bytes(
    config: SweepConfig, environment: Environment, trial_files: TrialFiles | None = None
) -> bytes:
    data = {
        "sweep": config.to_dict(),
        "trial_environment": environment.to_dict(),
        "trial_files": (trial_files or TrialFiles()).to_dict(),
    }
    return json.dumps(data, indent=2, sort_keys=True).encode()


def read_config(data: bytes) -> tuple[SweepConfig, Environment, TrialFiles]:
    """`sweep.json`: the trial's files relative to the sweep's snapshot (`TrialFiles.under`)."""
    try:
        parsed: dict[str, Any] = json.loads(data)
        # A sweep submitted before its trials carried files has none.
        files = parsed.get("trial_files") or TrialFiles().to_dict()
        return (
            SweepConfig.from_dict(parsed["sweep"]),
            Environment.from_dict(parsed["trial_environment"]),
            TrialFiles.from_dict(files),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidValue(
            f"the sweep's {CONFIG_FILE} is not readable ({error}): submit the sweep again"
        ) from error
