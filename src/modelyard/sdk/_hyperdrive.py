"""HyperDrive, Azure ML v1's sweep API: a search space of parameter expressions, a sampling,
a policy and a `ScriptRunConfig`, submitted with `experiment.submit(config)`::

    from modelyard.hyperdrive import (
        BanditPolicy, HyperDriveConfig, PrimaryMetricGoal, RandomParameterSampling, choice,
        loguniform,
    )

    sampling = RandomParameterSampling({"--lr": loguniform(-6, -1), "--batch": choice(16, 32)})
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(".", "train.py"),
        hyperparameter_sampling=sampling,
        policy=BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5),
        primary_metric_name="accuracy",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=20,
        max_concurrent_runs=4,
    )
    run = experiment.submit(config)         # a HyperDriveRun
    run.wait_for_completion()
    best = run.get_best_run_by_primary_metric()

As in Azure, each hyperparameter reaches the script as a command-line argument (`--lr 0.01`;
a name without dashes gets two). Like ScriptRunConfig, these classes only store what they are
given; the sweep is checked when it is submitted (`SweepConfig.check`), with the words a sweep
file gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from modelyard.entities import RunSource
from modelyard.entities.sweep import (
    EarlyTermination,
    Goal,
    Objective,
    PolicyType,
    Sampling,
    SamplingType,
    SweepConfig,
    SweepLimits,
    TrialCommand,
)
from modelyard.entities.sweep_space import Distribution, DistributionType
from modelyard.errors import InvalidValue
from modelyard.sdk._script_run_config import ScriptRunConfig
from modelyard.services.sweeps.sweep_job import SWEEP_TITLE, SweepJob

DEFAULT_MAX_DURATION_MINUTES = 10080  # Azure's: a week


# Parameter expressions (azureml.train.hyperdrive.parameter_expressions) -------------------


def choice(*options: Any) -> Distribution:
    """`choice(16, 32, 64)` or `choice([16, 32, 64])`."""
    values = (
        options[0]
        if len(options) == 1 and isinstance(options[0], list | tuple | range)
        else options
    )
    return Distribution(DistributionType.CHOICE, values=tuple(values))


def randint(upper: int) -> Distribution:
    return Distribution(DistributionType.RANDINT, upper=upper)


def uniform(min_value: float, max_value: float) -> Distribution:
    return Distribution(DistributionType.UNIFORM, min_value=min_value, max_value=max_value)


def quniform(min_value: float, max_value: float, q: float) -> Distribution:
    return Distribution(DistributionType.QUNIFORM, min_value=min_value, max_value=max_value, q=q)


def loguniform(min_value: float, max_value: float) -> Distribution:
    """exp(uniform(min_value, max_value)): the bounds are natural-log exponents."""
    return Distribution(DistributionType.LOGUNIFORM, min_value=min_value, max_value=max_value)


def qloguniform(min_value: float, max_value: float, q: float) -> Distribution:
    return Distribution(DistributionType.QLOGUNIFORM, min_value=min_value, max_value=max_value, q=q)


def normal(mu: float, sigma: float) -> Distribution:
    return Distribution(DistributionType.NORMAL, mu=mu, sigma=sigma)


def qnormal(mu: float, sigma: float, q: float) -> Distribution:
    return Distribution(DistributionType.QNORMAL, mu=mu, sigma=sigma, q=q)


def lognormal(mu: float, sigma: float) -> Distribution:
    return Distribution(DistributionType.LOGNORMAL, mu=mu, sigma=sigma)


def qlognormal(mu: float, sigma: float, q: float) -> Distribution:
    return Distribution(DistributionType.QLOGNORMAL, mu=mu, sigma=sigma, q=q)


# Sampling -----------------------------------------------------------------------------------


class _ParameterSampling:
    sampling = Sampling()

    def __init__(self, parameter_space: Mapping[str, Distribution]) -> None:
        self.parameter_space = dict(parameter_space)


class RandomParameterSampling(_ParameterSampling):
    """`properties` may hold `seed` and `rule` ("random" or "sobol"), as Azure's v2 takes."""

    def __init__(
        self,
        parameter_space: Mapping[str, Distribution],
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(parameter_space)
        self.properties = dict(properties or {})
        self.sampling = Sampling.from_dict({"type": "random", **self.properties})


class GridParameterSampling(_ParameterSampling):
    sampling = Sampling(SamplingType.GRID)


class BayesianParameterSampling(_ParameterSampling):
    sampling = Sampling(SamplingType.BAYESIAN)


# Policies and goal --------------------------------------------------------------------------


class PrimaryMetricGoal(StrEnum):
    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"


class _Policy:
    policy: EarlyTermination | None = None


class BanditPolicy(_Policy):
    def __init__(
        self,
        evaluation_interval: int = 1,
        slack_factor: float | None = None,
        slack_amount: float | None = None,
        delay_evaluation: int = 0,
    ) -> None:
        self.policy = EarlyTermination(
            PolicyType.BANDIT,
            evaluation_interval=evaluation_interval,
            delay_evaluation=delay_evaluation,
            slack_factor=slack_factor,
            slack_amount=slack_amount,
        )


class MedianStoppingPolicy(_Policy):
    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 5) -> None:
        self.policy = EarlyTermination(
            PolicyType.MEDIAN_STOPPING,
            evaluation_interval=evaluation_interval,
            delay_evaluation=delay_evaluation,
        )


class TruncationSelectionPolicy(_Policy):
    def __init__(
        self,
        truncation_percentage: int,
        evaluation_interval: int = 1,
        delay_evaluation: int = 0,
        exclude_finished_jobs: bool = False,
    ) -> None:
        self.policy = EarlyTermination(
            PolicyType.TRUNCATION_SELECTION,
            evaluation_interval=evaluation_interval,
            delay_evaluation=delay_evaluation,
            truncation_percentage=truncation_percentage,
            exclude_finished_jobs=exclude_finished_jobs,
        )


class NoTerminationPolicy(_Policy):
    pass


# The config ---------------------------------------------------------------------------------


class HyperDriveConfig:
    """Stores its arguments; `to_sweep_job` (at submission) turns them into a checked sweep."""

    def __init__(
        self,
        hyperparameter_sampling: _ParameterSampling,
        primary_metric_name: str,
        primary_metric_goal: PrimaryMetricGoal | str,
        max_total_runs: int,
        max_concurrent_runs: int | None = None,
        max_duration_minutes: float = DEFAULT_MAX_DURATION_MINUTES,
        policy: _Policy | None = None,
        run_config: ScriptRunConfig | None = None,
    ) -> None:
        self.hyperparameter_sampling = hyperparameter_sampling
        self.primary_metric_name = primary_metric_name
        self.primary_metric_goal = primary_metric_goal
        self.max_total_runs = max_total_runs
        self.max_concurrent_runs = max_concurrent_runs
        self.max_duration_minutes = max_duration_minutes
        self.policy = policy
        self.run_config = run_config

    def to_sweep_job(self, experiment: str, display_name: str | None = None) -> SweepJob:
        if self.run_config is None:
            raise InvalidValue(
                "HyperDriveConfig needs run_config: pass the ScriptRunConfig of the trial,"
                " like run_config=ScriptRunConfig('.', 'train.py')",
            )
        script = self.run_config.to_job(experiment)
        names, arguments = _arguments_for(self.hyperparameter_sampling.parameter_space)
        config = SweepConfig(
            search_space=dict(
                zip(names, self.hyperparameter_sampling.parameter_space.values(), strict=True)
            ),
            objective=Objective(self.primary_metric_name, Goal.parse(self.primary_metric_goal)),
            trial=TrialCommand(script.script, (*script.arguments, *arguments)),
            sampling=self.hyperparameter_sampling.sampling,
            limits=SweepLimits(
                max_total_trials=self.max_total_runs,
                max_concurrent_trials=self.max_concurrent_runs,
                timeout_s=self.max_duration_minutes * 60,
            ),
            early_termination=None if self.policy is None else self.policy.policy,
            compute=script.compute_target,
        )
        return SweepJob(
            experiment=experiment,
            config=config,
            code=Path(script.source_directory),
            environment=script.environment,
            display_name=display_name,
            source=RunSource(script=SWEEP_TITLE, arguments=("HyperDriveConfig",)),
        )


def _arguments_for(space: Mapping[str, Distribution]) -> tuple[list[str], list[str]]:
    """Each hyperparameter as Azure passes it: `--NAME VALUE` (the key as written when it
    starts with dashes); its name in the search space without the dashes."""
    names: list[str] = []
    arguments: list[str] = []
    for key in space:
        name = key.lstrip("-")
        flag = key if key.startswith("-") else f"--{key}"
        names.append(name)
        arguments += [flag, f"${{{{search_space.{name}}}}}"]
    return names, arguments
