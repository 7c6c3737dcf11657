from __future__ import annotations

import pytest

from modelyard.errors import InvalidValue
from modelyard.tabular.config import AutoMLConfig


def config(**changes: object) -> AutoMLConfig:
    base: dict[str, object] = {
        "task": "classification",
        "training_data": "t.csv",
        "label_column_name": "target",
        "time_budget_s": 60,
    }
    return AutoMLConfig(**{**base, **changes})  # type: ignore[arg-type]


def test_defaults_are_azures() -> None:
    checked = config().validated()
    assert checked.metric.name == "accuracy"
    assert list(checked.families) == [
        "LightGBM",
        "XGBoostClassifier",
        "RandomForest",
        "ExtremeRandomTrees",
        "LogisticRegression",
        "KNN",
    ]
    assert config(task="regression").validated().metric.name == "r2_score"
    assert config(time_budget_s=None, experiment_timeout_minutes=2).budget_s == 120


def test_allowed_and_blocked_models_by_name_in_any_case() -> None:
    chosen = config(allowed_models=["lightgbm", "xgboost", "KNN"], blocked_models=["knn"])
    assert chosen.validated().families == {"LightGBM": "lgbm", "XGBoostClassifier": "xgboost"}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"task": "forecasting"}, "choose classification, regression or image-classification"),
        ({"primary_metric": "r2_score"}, "--primary-metric 'r2_score' is not one of"),
        ({"allowed_models": ["LightGMB"]}, "did you mean 'LightGBM'?"),
        ({"blocked_models": ["KNN"], "allowed_models": ["KNN"]}, "leave no model to try"),
        ({"time_budget_s": 2}, "too small for one trial"),
        ({"validation": "holdout", "n_cross_validations": 5}, "give one of the two"),
    ],
)
def test_bad_settings_are_one_line_before_any_run(changes: dict[str, object], words: str):
    with pytest.raises(InvalidValue) as raised:
        config(**changes).validated()
    assert words in raised.value.message
    assert "\n" not in raised.value.message


def test_round_trips_through_json_shape() -> None:
    checked = config(allowed_models=["RandomForest"]).validated()
    assert AutoMLConfig.from_dict(checked.to_dict()).validated() == checked
