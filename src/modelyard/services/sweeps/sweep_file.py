"""Sweep YAML (`modelyard job create -f sweep.yml`), in Azure ML v2's sweep job shape::

    $schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json  # optional
    type: sweep
    experiment_name: tune-lr                  # required
    display_name: lr-sweep                    # optional
    compute: cpu-pool                         # where the trials run (default: local)
    sampling_algorithm: random                # random | grid | bayesian | sobol, or
                                              # {type: random, seed: 1, rule: sobol}
    search_space:
      lr: {type: loguniform, min_value: -6, max_value: -1}     # exponents: e^-6 … e^-1
      batch: {type: choice, values: [16, 32, 64]}
    objective: {primary_metric: accuracy, goal: maximize}
    early_termination: {type: bandit, slack_factor: 0.1, evaluation_interval: 1,
                        delay_evaluation: 5}  # or median_stopping, truncation_selection
    limits: {max_total_trials: 20, max_concurrent_trials: 4, timeout: 3600, trial_timeout: 600}
    trial:
      code: ./src                             # relative to this file (default: its folder)
      command: python train.py --lr ${{search_space.lr}} --batch ${{search_space.batch}}
      environment: {name: train-env, pip_requirements: requirements.txt}   # optional

Each part is judged by `SweepConfig` (entities/sweep.py), so the file and the SDK's
HyperDriveConfig are refused with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from modelyard.entities import RunSource
from modelyard.entities.sweep import (
    EarlyTermination,
    Objective,
    Sampling,
    SweepConfig,
    SweepLimits,
    TrialCommand,
)
from modelyard.entities.sweep_space import parse_search_space
from modelyard.entities.validation import refuse_unknown_fields
from modelyard.errors import InvalidValue
from modelyard.services.job_fields import command_words, environment_from
from modelyard.services.sweeps.sweep_job import SWEEP_TITLE, SweepJob

KNOWN_FIELDS: Final = frozenset(
    {
        "$schema",
        "type",
        "experiment_name",
        "display_name",
        "compute",
        "sampling_algorithm",
        "search_space",
        "objective",
        "early_termination",
        "limits",
        "trial",
    }
)
TRIAL_FIELDS: Final = frozenset({"code", "command", "environment"})


def sweep_job_from(path: Path, data: dict[str, Any]) -> SweepJob:
    """The sweep a job file's mapping (`type: sweep`) describes."""
    refuse_unknown_fields(f"sweep file {path}", data, KNOWN_FIELDS)
    for required in ("experiment_name", "search_space", "objective", "trial"):
        if not data.get(required):
            raise InvalidValue(
                f"sweep file {path} needs {required!r}: add it", path=str(path), field=required
            )
    base = path.absolute().parent
    trial = _trial(path, data["trial"])
    command = TrialCommand(*command_words(path, trial["command"], "trial.command"))
    config = sweep_config_from(data, command, _compute(data.get("compute")))
    return SweepJob(
        experiment=str(data["experiment_name"]),
        config=config,
        code=(base / str(trial.get("code") or ".")).absolute(),
        environment=environment_from(path, base, trial.get("environment"), "trial.environment"),
        display_name=data.get("display_name"),
        source=RunSource(script=SWEEP_TITLE, arguments=("-f", str(path))),
    )


def sweep_config_from(data: Mapping[str, Any], trial: TrialCommand, compute: str) -> SweepConfig:
    """The sweep's fields (`search_space`, `objective`, `sampling_algorithm`, `limits`,
    `early_termination`) judged as a whole: a sweep file's, or a pipeline's sweep step's."""
    policy = data.get("early_termination")
    return SweepConfig(
        search_space=parse_search_space(data["search_space"]),
        objective=Objective.from_dict(data["objective"]),
        trial=trial,
        sampling=Sampling.from_dict(data.get("sampling_algorithm") or "random"),
        limits=SweepLimits.from_dict(data.get("limits")),
        early_termination=None if policy is None else EarlyTermination.from_dict(policy),
        compute=compute,
    ).check()


def _trial(path: Path, trial: object) -> dict[str, Any]:
    if not isinstance(trial, dict) or not trial.get("command"):
        raise InvalidValue(
            f"sweep file {path}: trial needs a command, as in 'trial: {{code: ./src, command:"
            " python train.py --lr ${{search_space.lr}}}'",
            path=str(path),
        )
    refuse_unknown_fields(f"sweep file {path}: trial", trial, TRIAL_FIELDS)
    return trial


def _compute(value: object) -> str:
    """Azure writes `azureml:NAME`; the name is what counts here."""
    name = str(value or "local")
    return name.removeprefix("azureml:")
