"""What a sweep submits: its driver as a built-in job, the trial's code and the sweep's config
in the driver's snapshot (`trial/`, `sweep.json`)."""

from __future__ import annotations

import json
import secrets
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
# The driver runs beside the workspace's database, as Azure's runs in its service: on the
# built-in `local` compute, which has no node limit, so it never takes a node its trials need.
DRIVER_COMPUTE: Final = LOCAL


@dataclass(frozen=True)
class SweepJob:
    experiment: str
    config: SweepConfig
    code: Path  # the trial's source folder
    environment: Environment = field(default_factory=Environment.default)  # the trial's
    display_name: str | None = None
    source: RunSource | None = None

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
            files={CONFIG_FILE: config_bytes(self.config, self.environment)},
            folders={TRIAL_CODE: self.code},
            compute_target=DRIVER_COMPUTE,
            display_name=self.display_name,
            source=self.source or RunSource(script=SWEEP_TITLE),
        )


def config_bytes(config: SweepConfig, environment: Environment) -> bytes:
    data = {"sweep": config.to_dict(), "trial_environment": environment.to_dict()}
    return json.dumps(data, indent=2, sort_keys=True).encode()


def read_config(data: bytes) -> tuple[SweepConfig, Environment]:
    try:
        parsed: dict[str, Any] = json.loads(data)
        return (
            SweepConfig.from_dict(parsed["sweep"]),
            Environment.from_dict(parsed["trial_environment"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidValue(
            f"the sweep's {CONFIG_FILE} is not readable ({error}): submit the sweep again"
        ) from error
