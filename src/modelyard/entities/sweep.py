"""A hyperparameter sweep, as Azure ML's sweep job describes one (its v2 YAML's words).

`SweepConfig` holds what the sweep's driver needs: the search space (`sweep_space.py`), the
objective, the sampling algorithm, the early-termination policy, the limits, and the trial's
command with its `${{search_space.NAME}}` references. `check()` judges the whole: each part, and
what only makes sense together (a grid takes choices only, Bayesian sampling takes choice,
uniform and quniform and no early termination, as Azure's do; every hyperparameter reaches the
trial's command). The dict form (`to_dict`/`from_dict`) is Azure's YAML shape, so the sweep
file and the driver's `sweep.json` read alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

from modelyard.entities.names import validate_compute_name
from modelyard.entities.sweep_space import (
    Distribution,
    DistributionType,
    ParamValue,
    check_search_space,
    finite_number,
    format_value,
    grid_size,
    parse_search_space,
    whole_number,
)
from modelyard.entities.validation import refuse_unknown_fields
from modelyard.errors import InvalidValue

TRIALS_MAX: Final = 1000  # Azure's default and ours, as a bound: the driver reads every trial
# `${{search_space.lr}}` in the trial's command; any other `${{…}}` is refused by name.
_REFERENCE = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
_SEARCH_SPACE_PREFIX = "search_space."
_BAYESIAN_TYPES = frozenset(
    {DistributionType.CHOICE, DistributionType.UNIFORM, DistributionType.QUNIFORM}
)


class Goal(StrEnum):
    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    @classmethod
    def parse(cls, value: object) -> Goal:
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise InvalidValue(
                f"objective.goal is {value!r}: use maximize or minimize", goal=str(value)
            ) from None


@dataclass(frozen=True)
class Objective:
    primary_metric: str
    goal: Goal = Goal.MAXIMIZE

    def is_better(self, value: float, than: float) -> bool:
        """Strictly better; NaN is never better than anything, and anything beats NaN."""
        if math.isnan(value):
            return False
        if math.isnan(than):
            return True
        return value > than if self.goal is Goal.MAXIMIZE else value < than

    def best(self, values: list[float]) -> float:
        best = values[0]
        for value in values[1:]:
            if self.is_better(value, best):
                best = value
        return best

    def rank_key(self, value: float) -> float:
        """Sorting by this puts the best value first (NaN last)."""
        if math.isnan(value):
            return math.inf
        return -value if self.goal is Goal.MAXIMIZE else value

    def check(self) -> Objective:
        name = self.primary_metric
        if not isinstance(name, str) or not name.strip():
            raise InvalidValue(
                f"objective.primary_metric is {name!r}: name the metric the trials log, like"
                " 'accuracy' (logged with Run.get_context().log('accuracy', value))",
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"primary_metric": self.primary_metric, "goal": self.goal.value}

    @classmethod
    def from_dict(cls, data: object) -> Objective:
        if not isinstance(data, Mapping) or "primary_metric" not in data or "goal" not in data:
            raise InvalidValue(
                f"objective is {data!r}: write it as {{primary_metric: accuracy, goal: maximize}}"
            )
        refuse_unknown_fields("objective", data, {"primary_metric", "goal"})
        return cls(str(data["primary_metric"]), Goal.parse(data["goal"])).check()


class SamplingType(StrEnum):
    RANDOM = "random"
    GRID = "grid"
    BAYESIAN = "bayesian"


class RandomRule(StrEnum):
    RANDOM = "random"
    SOBOL = "sobol"


@dataclass(frozen=True)
class Sampling:
    """`random` (with a `seed`, and Azure's `rule: sobol` for a Sobol sequence), `grid` or
    `bayesian`. A random sweep without a seed gets one at submission, kept in its config, so a
    resumed sweep draws what it would have drawn."""

    type: SamplingType = SamplingType.RANDOM
    seed: int | None = None
    rule: RandomRule = RandomRule.RANDOM

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type.value}
        if self.type is SamplingType.RANDOM:
            data.update(seed=self.seed, rule=self.rule.value)
        return data

    @classmethod
    def from_dict(cls, data: object) -> Sampling:
        """`random`, `grid`, `bayesian`, `sobol` (our shorthand), or the mapping form."""
        if isinstance(data, str):
            if data.strip().lower() == RandomRule.SOBOL.value:
                return cls(SamplingType.RANDOM, rule=RandomRule.SOBOL)
            return cls(_sampling_type(data))
        if not isinstance(data, Mapping) or "type" not in data:
            raise InvalidValue(
                f"sampling_algorithm is {data!r}: write random, grid or bayesian, or"
                " {type: random, seed: 1, rule: sobol}",
            )
        kind = _sampling_type(data["type"])
        allowed = {"type", "seed", "rule", "logbase"} if kind is SamplingType.RANDOM else {"type"}
        refuse_unknown_fields(f"sampling_algorithm ({kind.value})", data, allowed)
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise InvalidValue(
                f"sampling_algorithm.seed is {seed!r}: use a whole number, 0 or more", seed=seed
            )
        return cls(kind, seed, _random_rule(data.get("rule")))


class PolicyType(StrEnum):
    BANDIT = "bandit"
    MEDIAN_STOPPING = "median_stopping"
    TRUNCATION_SELECTION = "truncation_selection"


_COMMON_POLICY_FIELDS = ("evaluation_interval", "delay_evaluation")
_POLICY_FIELDS: Final[Mapping[PolicyType, tuple[str, ...]]] = {
    PolicyType.BANDIT: ("slack_factor", "slack_amount"),
    PolicyType.MEDIAN_STOPPING: (),
    PolicyType.TRUNCATION_SELECTION: ("truncation_percentage", "exclude_finished_jobs"),
}


@dataclass(frozen=True)
class EarlyTermination:
    """Azure's early-termination policies. Intervals count the primary metric's points: the
    policy looks at a trial each `evaluation_interval` points, from point `delay_evaluation` on.
    """

    type: PolicyType
    evaluation_interval: int = 1
    delay_evaluation: int = 0
    slack_factor: float | None = None
    slack_amount: float | None = None
    truncation_percentage: int | None = None
    exclude_finished_jobs: bool = False

    def evaluated_interval(self, points: int) -> int | None:
        """The interval a trial with `points` metric points is judged at: the latest multiple
        of `evaluation_interval` that is at least `delay_evaluation` (and 1); None before."""
        interval = (points // self.evaluation_interval) * self.evaluation_interval
        return interval if interval >= max(self.delay_evaluation, 1) else None

    def check(self) -> EarlyTermination:
        where = f"early_termination ({self.type.value})"
        if self.evaluation_interval < 1 or self.delay_evaluation < 0:
            raise InvalidValue(
                f"{where} has evaluation_interval {self.evaluation_interval} and"
                f" delay_evaluation {self.delay_evaluation}: the interval must be at least 1"
                " and the delay 0 or more",
            )
        if self.type is PolicyType.BANDIT:
            _check_slack(where, self.slack_factor, self.slack_amount)
        if self.type is PolicyType.TRUNCATION_SELECTION and not (
            self.truncation_percentage is not None and 1 <= self.truncation_percentage <= 99
        ):
            raise InvalidValue(
                f"{where} has truncation_percentage {self.truncation_percentage!r}: give the"
                " share of the worst trials to cancel at each interval, 1 to 99",
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type.value,
            "evaluation_interval": self.evaluation_interval,
            "delay_evaluation": self.delay_evaluation,
        }
        for key in _POLICY_FIELDS[self.type]:
            data[key] = getattr(self, key)
        return data

    @classmethod
    def from_dict(cls, data: object) -> EarlyTermination:
        if not isinstance(data, Mapping) or "type" not in data:
            raise InvalidValue(
                f"early_termination is {data!r}: write it as {{type: bandit, slack_factor: 0.1,"
                " evaluation_interval: 1, delay_evaluation: 5}, or median_stopping or"
                " truncation_selection",
            )
        kind = _policy_type(data["type"])
        where = f"early_termination ({kind.value})"
        refuse_unknown_fields(where, data, {"type", *_COMMON_POLICY_FIELDS, *_POLICY_FIELDS[kind]})
        fields: dict[str, Any] = {}
        for key in ("evaluation_interval", "delay_evaluation", "truncation_percentage"):
            if data.get(key) is not None:
                fields[key] = whole_number(where, key, data[key])
        # Azure's v2 default interval is 0, which evaluates at every point, as 1 does here.
        fields["evaluation_interval"] = max(fields.get("evaluation_interval", 1), 1)
        for key in ("slack_factor", "slack_amount"):
            if data.get(key) is not None:
                fields[key] = _positive(where, key, data[key])
        if data.get("exclude_finished_jobs") is not None:
            fields["exclude_finished_jobs"] = bool(data["exclude_finished_jobs"])
        return cls(kind, **fields).check()


@dataclass(frozen=True)
class SweepLimits:
    """`max_concurrent_trials` defaults to `max_total_trials`; timeouts are in seconds."""

    max_total_trials: int = TRIALS_MAX
    max_concurrent_trials: int | None = None
    timeout_s: float | None = None
    trial_timeout_s: float | None = None

    @property
    def concurrent_trials(self) -> int:
        return min(self.max_concurrent_trials or self.max_total_trials, self.max_total_trials)

    def check(self) -> SweepLimits:
        for key, value in (
            ("max_total_trials", self.max_total_trials),
            ("max_concurrent_trials", self.max_concurrent_trials),
        ):
            if value is not None and not 1 <= value <= TRIALS_MAX:
                raise InvalidValue(
                    f"limits.{key} is {value}: it must be 1 to {TRIALS_MAX}; set it to how many"
                    f" trials {'may run at once' if 'concurrent' in key else 'to run in all'}",
                    field=key,
                    value=value,
                )
        for key, seconds in (("timeout", self.timeout_s), ("trial_timeout", self.trial_timeout_s)):
            if seconds is not None and not seconds > 0:
                raise InvalidValue(
                    f"limits.{key} is {seconds:g}: give a number of seconds above 0, or leave it"
                    " out for no limit",
                    field=key,
                )
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_total_trials": self.max_total_trials,
            "max_concurrent_trials": self.max_concurrent_trials,
            "timeout": self.timeout_s,
            "trial_timeout": self.trial_timeout_s,
        }

    @classmethod
    def from_dict(cls, data: object) -> SweepLimits:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InvalidValue(
                f"limits is {data!r}: write it as {{max_total_trials: 20,"
                " max_concurrent_trials: 4, timeout: 3600, trial_timeout: 600}",
            )
        refuse_unknown_fields("limits", data, set(cls().to_dict()))
        fields: dict[str, Any] = {}
        for key in ("max_total_trials", "max_concurrent_trials"):
            if data.get(key) is not None:
                fields[key] = whole_number("limits", key, data[key])
        for key, attribute in (("timeout", "timeout_s"), ("trial_timeout", "trial_timeout_s")):
            if data.get(key) is not None:
                fields[attribute] = finite_number("limits", key, data[key])
        return cls(**fields).check()


@dataclass(frozen=True)
class TrialCommand:
    """`python SCRIPT ARGS…` with `${{search_space.NAME}}` in the arguments."""

    script: str
    arguments: tuple[str, ...] = ()

    def references(self) -> set[str]:
        found: set[str] = set()
        for argument in (self.script, *self.arguments):
            for reference in _REFERENCE.findall(argument):
                if not reference.startswith(_SEARCH_SPACE_PREFIX):
                    raise InvalidValue(
                        f"trial.command refers to ${{{{{reference}}}}}: only"
                        " ${{search_space.NAME}} is supported here",
                        reference=reference,
                    )
                found.add(reference[len(_SEARCH_SPACE_PREFIX) :])
        return found

    def render(self, params: Mapping[str, ParamValue]) -> tuple[str, ...]:
        """The arguments with each reference replaced by its value (one word stays one)."""

        def value_of(match: re.Match[str]) -> str:
            return format_value(params[match.group(1)[len(_SEARCH_SPACE_PREFIX) :]])

        return tuple(_REFERENCE.sub(value_of, argument) for argument in self.arguments)

    def to_dict(self) -> dict[str, Any]:
        return {"script": self.script, "arguments": list(self.arguments)}


@dataclass(frozen=True)
class SweepConfig:
    search_space: Mapping[str, Distribution]
    objective: Objective
    trial: TrialCommand
    sampling: Sampling = field(default_factory=Sampling)
    limits: SweepLimits = field(default_factory=SweepLimits)
    early_termination: EarlyTermination | None = None
    compute: str = "local"

    @property
    def total_trials(self) -> int:
        """How many trials the sweep runs: its limit, or every point of a smaller grid."""
        if self.sampling.type is SamplingType.GRID:
            return min(self.limits.max_total_trials, grid_size(self.search_space))
        return self.limits.max_total_trials

    def with_seed(self, seed: int) -> SweepConfig:
        if self.sampling.type is not SamplingType.RANDOM or self.sampling.seed is not None:
            return self
        return replace(self, sampling=replace(self.sampling, seed=seed))

    def check(self) -> SweepConfig:
        check_search_space(self.search_space)
        self.objective.check()
        self.limits.check()
        if self.early_termination is not None:
            self.early_termination.check()
        validate_compute_name(self.compute)
        self._check_sampling_fits_the_space()
        self._check_references()
        return self

    def _check_sampling_fits_the_space(self) -> None:
        kind = self.sampling.type
        for name, distribution in self.search_space.items():
            if kind is SamplingType.GRID and not distribution.is_choice:
                raise InvalidValue(
                    f"grid sampling cannot enumerate search_space.{name}, a"
                    f" {distribution.type.value} distribution: give every hyperparameter of a"
                    " grid as {type: choice, values: [...]}, or use random sampling",
                    parameter=name,
                )
            if kind is SamplingType.BAYESIAN and distribution.type not in _BAYESIAN_TYPES:
                raise InvalidValue(
                    f"bayesian sampling cannot use search_space.{name}, a"
                    f" {distribution.type.value} distribution: it takes choice, uniform and"
                    " quniform only (as Azure's does); use random sampling for the others",
                    parameter=name,
                )
        if kind is SamplingType.BAYESIAN and self.early_termination is not None:
            raise InvalidValue(
                "bayesian sampling takes no early_termination policy (as Azure's does): remove"
                " early_termination, or use random sampling with it",
            )

    def _check_references(self) -> None:
        referenced = self.trial.references()
        unknown = sorted(referenced - set(self.search_space))
        if unknown:
            raise InvalidValue(
                f"trial.command refers to ${{{{search_space.{unknown[0]}}}}}, which the search"
                f" space does not define: add {unknown[0]} to search_space or fix the name"
                f" (defined: {', '.join(self.search_space)})",
                parameter=unknown[0],
            )
        unused = [name for name in self.search_space if name not in referenced]
        if unused:
            raise InvalidValue(
                f"search_space.{unused[0]} is not used in trial.command, so no trial would see"
                f" it: pass it to the script, like --{unused[0]} ${{{{search_space.{unused[0]}}}}}",
                parameter=unused[0],
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "search_space": {name: d.to_dict() for name, d in self.search_space.items()},
            "objective": self.objective.to_dict(),
            "trial": self.trial.to_dict(),
            "sampling_algorithm": self.sampling.to_dict(),
            "limits": self.limits.to_dict(),
            "early_termination": (
                None if self.early_termination is None else self.early_termination.to_dict()
            ),
            "compute": self.compute,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepConfig:
        """The driver's `sweep.json` (what `to_dict` wrote)."""
        trial = data["trial"]
        policy = data.get("early_termination")
        return cls(
            search_space=parse_search_space(data["search_space"]),
            objective=Objective.from_dict(data["objective"]),
            trial=TrialCommand(str(trial["script"]), tuple(trial.get("arguments") or ())),
            sampling=Sampling.from_dict(data.get("sampling_algorithm") or "random"),
            limits=SweepLimits.from_dict(data.get("limits")),
            early_termination=None if policy is None else EarlyTermination.from_dict(policy),
            compute=str(data.get("compute") or "local"),
        ).check()


def _sampling_type(value: object) -> SamplingType:
    try:
        return SamplingType(str(value).strip().lower())
    except ValueError:
        raise InvalidValue(
            f"sampling_algorithm {value!r} is not known: use random, grid, bayesian or sobol",
            sampling=str(value),
        ) from None


def _random_rule(value: object) -> RandomRule:
    if value is None:
        return RandomRule.RANDOM
    try:
        return RandomRule(str(value).strip().lower())
    except ValueError:
        raise InvalidValue(
            f"sampling_algorithm.rule is {value!r}: use random or sobol", rule=str(value)
        ) from None


def _policy_type(value: object) -> PolicyType:
    spelled = str(value).strip().lower().replace("-", "_")
    try:
        return PolicyType(spelled)
    except ValueError:
        raise InvalidValue(
            f"early_termination type {value!r} is not known: use bandit, median_stopping or"
            " truncation_selection",
            policy=str(value),
        ) from None


def _check_slack(where: str, factor: float | None, amount: float | None) -> None:
    if (factor is None) == (amount is None):
        raise InvalidValue(
            f"{where} needs exactly one of slack_factor and slack_amount (it has"
            f" {'both' if factor is not None else 'neither'}): give the allowed distance from"
            " the best trial as a ratio (slack_factor: 0.1) or an amount (slack_amount: 0.05)",
        )


def _positive(where: str, key: str, value: object) -> float:
    number = finite_number(where, key, value)
    if not number > 0:
        raise InvalidValue(f"{where}.{key} is {value!r}: it must be above 0", field=key)
    return number
