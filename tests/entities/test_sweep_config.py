"""A sweep's config, as Azure's sweep YAML writes it: each distribution means what Azure's
does, and every wrong config is one line naming the problem, the value and the fix."""

from __future__ import annotations

import math
from typing import Any

import pytest

from modelyard.entities.sweep import (
    EarlyTermination,
    Goal,
    Objective,
    PolicyType,
    RandomRule,
    Sampling,
    SamplingType,
    SweepConfig,
    SweepLimits,
    TrialCommand,
)
from modelyard.entities.sweep_space import Distribution, parse_search_space
from modelyard.errors import InvalidValue


def config(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "search_space": {"lr": {"type": "uniform", "min_value": 0.01, "max_value": 0.1}},
        "objective": {"primary_metric": "accuracy", "goal": "maximize"},
        "trial": {"script": "train.py", "arguments": ["--lr", "${{search_space.lr}}"]},
        "sampling_algorithm": "random",
    }
    data.update(overrides)
    return data


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(InvalidValue) as caught:
        SweepConfig.from_dict(data)
    message = caught.value.message
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("spec", "u", "expected"),
    [
        ({"type": "uniform", "min_value": 1, "max_value": 3}, 0.5, 2.0),
        # Azure's loguniform takes the natural-log exponents: exp(uniform(-6, -1)).
        ({"type": "loguniform", "min_value": -6, "max_value": -1}, 0.0, math.exp(-6)),
        ({"type": "loguniform", "min_value": -6, "max_value": -1}, 0.5, math.exp(-3.5)),
        ({"type": "quniform", "min_value": 16, "max_value": 128, "q": 16}, 0.3, 48),
        ({"type": "quniform", "min_value": 0, "max_value": 1, "q": 0.1}, 0.33, 0.3),
        ({"type": "qloguniform", "min_value": 0, "max_value": 2, "q": 1}, 1 - 1e-15, 7),
        ({"type": "randint", "upper": 4}, 0.99, 3),
        ({"type": "randint", "upper": 4}, 0.0, 0),
        ({"type": "choice", "values": ["a", "b", "c"]}, 0.5, "b"),
        ({"type": "normal", "mu": 2, "sigma": 1}, 0.5, 2.0),
        ({"type": "lognormal", "mu": 0, "sigma": 1}, 0.5, 1.0),
        ({"type": "qnormal", "mu": 64, "sigma": 8, "q": 8}, 0.5, 64),
    ],
)
def test_each_distribution_maps_a_draw_as_azure_defines_it(
    spec: dict[str, Any], u: float, expected: object
) -> None:
    value = Distribution.parse("p", spec).from_unit(u)
    assert value == pytest.approx(expected) and type(value) is type(expected)


def test_values_read_back_from_their_recorded_text() -> None:
    space = parse_search_space(
        {
            "batch": {"type": "choice", "values": [16, 32, "auto", True]},
            "layers": {"type": "randint", "upper": 5},
            "lr": {"type": "uniform", "min_value": 0, "max_value": 1},
        }
    )
    for value in (16, 32, "auto", True):
        assert space["batch"].parse_value(str(value)) == value
    assert space["layers"].parse_value("3") == 3
    assert space["lr"].parse_value(repr(0.1234567890123)) == 0.1234567890123


def test_the_dict_form_round_trips() -> None:
    data = config(
        early_termination={"type": "bandit", "slack_factor": 0.1, "delay_evaluation": 2},
        limits={"max_total_trials": 8, "max_concurrent_trials": 2, "timeout": 60},
        sampling_algorithm={"type": "random", "seed": 7, "rule": "sobol"},
    )
    loaded = SweepConfig.from_dict(data)
    assert SweepConfig.from_dict(loaded.to_dict()) == loaded
    assert loaded.sampling == Sampling(SamplingType.RANDOM, 7, RandomRule.SOBOL)
    assert loaded.limits == SweepLimits(8, 2, 60.0, None)
    assert loaded.early_termination == EarlyTermination(
        PolicyType.BANDIT, delay_evaluation=2, slack_factor=0.1
    )
    assert loaded.objective == Objective("accuracy", Goal.MAXIMIZE)


def test_a_grid_runs_every_point_once_and_no_more_than_its_limit() -> None:
    space = {
        "a": {"type": "choice", "values": [1, 2, 3]},
        "b": {"type": "choice", "values": [4, 5]},
    }
    trial = {"script": "t.py", "arguments": ["${{search_space.a}}", "--b=${{search_space.b}}"]}
    grid = SweepConfig.from_dict(config(search_space=space, trial=trial, sampling_algorithm="grid"))
    assert grid.total_trials == 6
    limited = config(search_space=space, trial=trial, sampling_algorithm="grid")
    limited["limits"] = {"max_total_trials": 4}
    assert SweepConfig.from_dict(limited).total_trials == 4
    assert grid.trial.render({"a": 2, "b": 5}) == ("2", "--b=5")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"search_space": {"lr": {"type": "gaussian", "mu": 0, "sigma": 1}}},
            "search_space.lr has unknown distribution 'gaussian': use one of choice, randint",
        ),
        (
            {"search_space": {"lr": {"type": "uniform", "min_value": 0.1}}},
            "search_space.lr (uniform) needs 'max_value': add it",
        ),
        (
            {"search_space": {"lr": {"type": "uniform", "min_value": 1, "max_value": 0.1}}},
            "min_value 1 and max_value 0.1: min_value must be below max_value",
        ),
        (
            {"search_space": {"lr": {"type": "uniform", "low": 0, "max_value": 1}}},
            "has unknown field 'low': a uniform takes min_value, max_value",
        ),
        ({"search_space": {"lr": 0.1}}, "search_space.lr is 0.1, not a distribution"),
        (
            {"search_space": {"lr": {"type": "choice", "values": []}}},
            "search_space.lr (choice) has no values",
        ),
        (
            {"search_space": {"lr": {"type": "normal", "mu": 0, "sigma": 0}}},
            "has sigma 0: the standard deviation must be above 0",
        ),
        (
            {"sampling_algorithm": "grid"},
            "grid sampling cannot enumerate search_space.lr, a uniform distribution: give every"
            " hyperparameter of a grid as {type: choice",
        ),
        (
            {"limits": {"max_concurrent_trials": 0}},
            "limits.max_concurrent_trials is 0: it must be 1 to 1000; set it to how many trials"
            " may run at once",
        ),
        ({"sampling_algorithm": "hyperband"}, "sampling_algorithm 'hyperband' is not known"),
        ({"objective": {"primary_metric": "acc", "goal": "up"}}, "objective.goal is 'up'"),
        (
            {"trial": {"script": "t.py", "arguments": ["--lr", "${{search_space.rate}}"]}},
            "refers to ${{search_space.rate}}, which the search space does not define",
        ),
        (
            {"trial": {"script": "t.py", "arguments": ["--data", "${{inputs.data}}"]}},
            "trial.command refers to ${{inputs.data}}: only ${{search_space.NAME}}",
        ),
        (
            {"trial": {"script": "t.py", "arguments": []}},
            "search_space.lr is not used in trial.command, so no trial would see it: pass it",
        ),
        (
            {"early_termination": {"type": "bandit"}},
            "needs exactly one of slack_factor and slack_amount (it has neither)",
        ),
        (
            {"early_termination": {"type": "truncation_selection", "truncation_percentage": 100}},
            "truncation_percentage 100: give the share of the worst trials to cancel",
        ),
        (
            {
                "sampling_algorithm": "bayesian",
                "early_termination": {"type": "median_stopping"},
            },
            "bayesian sampling takes no early_termination policy",
        ),
        (
            {
                "sampling_algorithm": "bayesian",
                "search_space": {"lr": {"type": "loguniform", "min_value": -6, "max_value": -1}},
            },
            "bayesian sampling cannot use search_space.lr, a loguniform distribution",
        ),
    ],
)
def test_a_wrong_config_is_one_line_with_the_value_and_the_fix(
    overrides: dict[str, Any], expected: str
) -> None:
    assert expected in refused(config(**overrides))


def test_a_loguniform_written_as_values_past_exp_range_says_they_are_exponents() -> None:
    message = refused(
        config(search_space={"lr": {"type": "loguniform", "min_value": 1, "max_value": 1000}})
    )
    assert "natural-log exponents" in message


def test_bandit_evaluates_at_multiples_of_the_interval_from_the_delay_on() -> None:
    policy = EarlyTermination(
        PolicyType.BANDIT, evaluation_interval=2, delay_evaluation=3, slack_factor=0.1
    )
    assert [policy.evaluated_interval(points) for points in range(7)] == [
        None,
        None,
        None,
        None,
        4,
        4,
        6,
    ]


def test_concurrency_defaults_to_the_total() -> None:
    assert SweepLimits(max_total_trials=5).concurrent_trials == 5
    assert SweepLimits(max_total_trials=5, max_concurrent_trials=9).concurrent_trials == 5
    assert TrialCommand("t.py", ("${{ search_space.x }}",)).references() == {"x"}
