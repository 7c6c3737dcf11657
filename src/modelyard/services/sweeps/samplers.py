"""Choosing each trial's hyperparameters.

A sampler is asked for trial number N's params with every trial recorded so far, and keeps no
state of its own: a resumed driver asks again and gets what the first one would have.

- random: trial N draws from Python's generator seeded with the sweep's seed and N;
- sobol: point N of a scrambled Sobol sequence (SciPy's engine, the one Optuna's QMCSampler
  wraps), fast-forwarded to N;
- grid: the first point of the grid (the choices' product, in the order written) that no
  recorded trial has run;
- bayesian: Optuna's TPE (Azure's is a Gaussian process; TPE is Optuna's Bayesian sampler),
  given a study rebuilt from the recorded trials on each ask: finished ones with their final
  value (failed and early-terminated ones as such), running ones as running (its
  `constant_liar` keeps concurrent trials apart).

Random and Sobol draw a number u in [0, 1) per hyperparameter and map it through the
distribution (`Distribution.from_unit`), so Azure's ten distributions mean the same for both.
"""

from __future__ import annotations

import itertools
import random
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from modelyard.entities.sweep import Goal, RandomRule, SamplingType, SweepConfig
from modelyard.entities.sweep_space import Distribution, DistributionType, ParamValue
from modelyard.extras import require_extra
from modelyard.services.sweeps.trials import Trial

if TYPE_CHECKING:
    import optuna

Params = dict[str, ParamValue]


class Sampler(Protocol):
    def params_for(self, number: int, trials: Sequence[Trial]) -> Params | None:
        """Trial `number`'s params; None once there is nothing left to try (a grid's end)."""
        ...


def sampler_for(config: SweepConfig) -> Sampler:
    require_sampling_extra(config)
    space = config.search_space
    if config.sampling.type is SamplingType.GRID:
        return GridSampler(space)
    if config.sampling.type is SamplingType.BAYESIAN:
        return BayesianSampler(space, config.objective.goal)
    seed = config.sampling.seed or 0
    if config.sampling.rule is RandomRule.SOBOL:
        return SobolSampler(space, seed)
    return RandomSampler(space, seed)


def require_sampling_extra(config: SweepConfig) -> None:
    """Sobol needs SciPy and Bayesian sampling Optuna (the `sweep` extra); random and grid
    sampling need nothing."""
    if config.sampling.type is SamplingType.BAYESIAN:
        require_extra("sweep", "bayesian sampling", modules=("optuna",))
    elif config.sampling.rule is RandomRule.SOBOL:
        require_extra("sweep", "sobol sampling", modules=("scipy",))


class RandomSampler:
    def __init__(self, space: Mapping[str, Distribution], seed: int) -> None:
        self.space = space
        self.seed = seed

    def params_for(self, number: int, trials: Sequence[Trial]) -> Params | None:
        draws = random.Random(f"{self.seed}/{number}")  # a string seed hashes the same anywhere
        return {name: d.from_unit(draws.random()) for name, d in self.space.items()}


class SobolSampler:
    def __init__(self, space: Mapping[str, Distribution], seed: int) -> None:
        self.space = space
        self.seed = seed

    def params_for(self, number: int, trials: Sequence[Trial]) -> Params | None:
        from scipy.stats import qmc

        engine = qmc.Sobol(d=len(self.space), scramble=True, seed=self.seed)
        if number:
            engine.fast_forward(number)
        with warnings.catch_warnings():  # "balance properties" of counts not a power of 2
            warnings.simplefilter("ignore")
            point = engine.random(1)[0]
        return {
            name: d.from_unit(float(u))
            for (name, d), u in zip(self.space.items(), point, strict=True)
        }


class GridSampler:
    def __init__(self, space: Mapping[str, Distribution]) -> None:
        self.names = list(space)
        self.space = space

    def params_for(self, number: int, trials: Sequence[Trial]) -> Params | None:
        tried = {self._key(trial.params) for trial in trials}
        for point in itertools.product(*(d.values for d in self.space.values())):
            params = dict(zip(self.names, point, strict=True))
            if self._key(params) not in tried:
                return params
        return None

    def _key(self, params: Mapping[str, ParamValue]) -> tuple[str, ...]:
        return tuple(str(params.get(name)) for name in self.names)


class BayesianSampler:
    def __init__(self, space: Mapping[str, Distribution], goal: Goal) -> None:
        self.space = space
        self.goal = goal

    def params_for(self, number: int, trials: Sequence[Trial]) -> Params | None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        distributions = {name: _optuna_distribution(d) for name, d in self.space.items()}
        with warnings.catch_warnings():  # constant_liar is marked experimental
            warnings.simplefilter("ignore")
            sampler = optuna.samplers.TPESampler(constant_liar=True)
        study = optuna.create_study(direction=self.goal.value, sampler=sampler)
        for trial in trials:
            recorded = _optuna_trial(trial, self.space, distributions)
            if recorded is not None:
                study.add_trial(recorded)
        asked = study.ask(distributions)
        return {name: _from_optuna(d, asked.params[name]) for name, d in self.space.items()}


def _optuna_distribution(distribution: Distribution) -> optuna.distributions.BaseDistribution:
    """choice, uniform and quniform: the distributions Bayesian sampling takes. A quniform is
    its multiplier k of q (an integer range), so every value TPE proposes is a multiple of q."""
    from optuna import distributions

    if distribution.type is DistributionType.CHOICE:
        return distributions.CategoricalDistribution(distribution.values)
    assert distribution.min_value is not None and distribution.max_value is not None
    if distribution.type is DistributionType.UNIFORM:
        return distributions.FloatDistribution(distribution.min_value, distribution.max_value)
    low, high = _multipliers(distribution)
    return distributions.IntDistribution(low, high)


def _multipliers(distribution: Distribution) -> tuple[int, int]:
    assert (
        distribution.q and distribution.min_value is not None and distribution.max_value is not None
    )
    return round(distribution.min_value / distribution.q), round(
        distribution.max_value / distribution.q
    )


def _from_optuna(distribution: Distribution, value: Any) -> ParamValue:
    if distribution.type is DistributionType.QUNIFORM:
        assert distribution.q is not None
        return distribution.quantize(int(value) * distribution.q)
    return value  # type: ignore[no-any-return]


def _to_optuna(distribution: Distribution, value: ParamValue) -> Any:
    """A recorded value in TPE's terms, kept inside the distribution's range."""
    if distribution.type is DistributionType.CHOICE:
        return value if value in distribution.values else None
    if isinstance(value, str | bool):
        return None
    if distribution.type is DistributionType.QUNIFORM:
        assert distribution.q is not None
        low, high = _multipliers(distribution)
        return min(max(round(value / distribution.q), low), high)
    assert distribution.min_value is not None and distribution.max_value is not None
    return min(max(float(value), distribution.min_value), distribution.max_value)


def _optuna_trial(
    trial: Trial,
    space: Mapping[str, Distribution],
    distributions: Mapping[str, optuna.distributions.BaseDistribution],
) -> optuna.trial.FrozenTrial | None:
    from optuna.trial import TrialState, create_trial

    params = {
        name: _to_optuna(d, trial.params[name]) for name, d in space.items() if name in trial.params
    }
    if len(params) != len(space) or any(value is None for value in params.values()):
        return None  # not a point of this space (a param recorded by hand): nothing to learn
    value = trial.ranked_value
    if trial.is_active:
        state = TrialState.RUNNING
    elif value is not None:
        state = TrialState.COMPLETE
    elif trial.early_terminated:
        state = TrialState.PRUNED
    else:
        state = TrialState.FAIL
    return create_trial(
        state=state,
        value=value if state is TrialState.COMPLETE else None,
        params=params,
        distributions=dict(distributions),
    )


__all__ = ["Sampler", "require_sampling_extra", "sampler_for"]
