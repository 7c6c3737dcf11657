"""Samplers keep no state: trial N's params are a function of the sweep and the trials
recorded, so a resumed driver asks again and gets the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from modelyard.entities import Run, RunStatus
from modelyard.entities.sweep import SweepConfig
from modelyard.services.sweeps.samplers import sampler_for
from modelyard.services.sweeps.trials import Trial

SPACE = {
    "lr": {"type": "loguniform", "min_value": -6, "max_value": -1},
    "batch": {"type": "choice", "values": [16, 32, 64]},
    "layers": {"type": "randint", "upper": 4},
}


def sweep(sampling: object, space: dict[str, Any] = SPACE) -> SweepConfig:
    arguments = [f"--{name}=${{{{search_space.{name}}}}}" for name in space]
    return SweepConfig.from_dict(
        {
            "search_space": space,
            "objective": {"primary_metric": "accuracy", "goal": "maximize"},
            "trial": {"script": "t.py", "arguments": arguments},
            "sampling_algorithm": sampling,
        }
    )


def recorded(number: int, params: dict[str, Any], value: float | None = None) -> Trial:
    status = RunStatus.COMPLETED if value is not None else RunStatus.RUNNING
    run = Run(f"r{number}", "e", "e", number, f"t{number}", status, datetime.now(UTC), "u")
    values = () if value is None else (value,)
    return Trial(number, run, params, values, ("accuracy",))


def test_random_sampling_is_a_function_of_the_seed_and_the_trial_number() -> None:
    config = sweep({"type": "random", "seed": 5})
    first, again = sampler_for(config), sampler_for(config)
    drawn = [first.params_for(n, []) for n in range(6)]
    assert [again.params_for(n, []) for n in reversed(range(6))] == drawn[::-1]
    assert len({str(params) for params in drawn}) == 6
    other_seed = sampler_for(sweep({"type": "random", "seed": 6}))
    assert other_seed.params_for(0, []) != drawn[0]
    for params in drawn:
        assert params is not None
        assert 2.4e-3 < params["lr"] < 0.37 and params["batch"] in (16, 32, 64)  # e^-6, e^-1
        assert params["layers"] in range(4)


def test_sobol_points_are_resumable_and_spread() -> None:
    config = sweep({"type": "random", "seed": 1, "rule": "sobol"})
    drawn = [sampler_for(config).params_for(n, []) for n in range(8)]
    assert drawn[5] == sampler_for(config).params_for(5, [])
    assert {params["batch"] for params in drawn if params} == {16, 32, 64}


def test_grid_enumerates_each_point_once_skipping_those_recorded() -> None:
    space = {
        "a": {"type": "choice", "values": [1, 2]},
        "b": {"type": "choice", "values": ["x", "y", "z"]},
    }
    sampler = sampler_for(sweep("grid", space))
    trials: list[Trial] = []
    while (params := sampler.params_for(len(trials), trials)) is not None:
        trials.append(recorded(len(trials), params))
    assert sorted((t.params["a"], t.params["b"]) for t in trials) == [
        (a, b) for a in (1, 2) for b in "xyz"
    ]


def test_bayesian_sampling_learns_from_the_recorded_trials_and_stays_in_the_space() -> None:
    space = {
        "x": {"type": "uniform", "min_value": 0, "max_value": 1},
        "n": {"type": "quniform", "min_value": 8, "max_value": 64, "q": 8},
        "act": {"type": "choice", "values": ["relu", "tanh"]},
    }
    sampler = sampler_for(sweep("bayesian", space))
    trials: list[Trial] = []
    for number in range(14):
        params = sampler.params_for(number, trials)
        assert params is not None
        assert 0 <= params["x"] <= 1 and params["act"] in ("relu", "tanh")
        assert params["n"] in range(8, 65, 8) and isinstance(params["n"], int)
        trials.append(recorded(number, params, value=-((params["x"] - 0.8) ** 2)))
    trials.append(recorded(14, {"x": 0.5, "n": 8, "act": "relu"}))  # running: a pending point
    assert sampler.params_for(15, trials) is not None
