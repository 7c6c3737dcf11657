"""Every candidate family, with the featurization, exported to ONNX and checked against
scikit-learn's own answers on the table (the parity check the trainer records)."""

from __future__ import annotations

import warnings
from typing import Any

import lightgbm
import numpy as np
import pytest
import xgboost
from sklearn.ensemble import (
    ExtraTreesClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.linear_model import ElasticNet, LogisticRegression

from modelyard.tabular.export import check_parity, export_onnx, pipeline_of
from modelyard.tabular.featurize import build_featurizer, feature_columns, model_frame
from tabular.conftest import LABEL, bundled_frame


def _fitted(name: str, model: Any, task: str) -> tuple[Any, Any, list[Any]]:
    frame = bundled_frame("wine" if task == "classification" else "diabetes")
    frame["band"] = np.where(frame.iloc[:, 0] > frame.iloc[:, 0].median(), "high", "low")
    frame.iloc[3, 1] = np.nan
    features = frame.drop(columns=[LABEL])
    columns = feature_columns(features)
    table = model_frame(features, columns)
    featurizer = build_featurizer(columns).fit(table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(np.asarray(featurizer.transform(table), dtype=np.float32), frame[LABEL])
    return pipeline_of(featurizer, model), table, columns


CLASSIFIERS = {
    "LightGBM": lambda: lightgbm.LGBMClassifier(n_estimators=8, verbose=-1),
    "XGBoost": lambda: xgboost.XGBClassifier(n_estimators=8),
    "RandomForest": lambda: RandomForestClassifier(n_estimators=8, random_state=0),
    "ExtremeRandomTrees": lambda: ExtraTreesClassifier(n_estimators=8, random_state=0),
    "LogisticRegression": lambda: LogisticRegression(max_iter=500),
    "VotingEnsemble": lambda: VotingClassifier(
        [
            ("lgbm", lightgbm.LGBMClassifier(n_estimators=8, verbose=-1)),
            ("lr", LogisticRegression(max_iter=500)),
        ],
        voting="soft",
        flatten_transform=False,
    ),
}
REGRESSORS = {
    "LightGBM": lambda: lightgbm.LGBMRegressor(n_estimators=8, verbose=-1),
    "XGBoost": lambda: xgboost.XGBRegressor(n_estimators=8),
    "RandomForest": lambda: RandomForestRegressor(n_estimators=8, random_state=0),
    "ElasticNet": lambda: ElasticNet(),
    "VotingEnsemble": lambda: VotingRegressor(
        [("lgbm", lightgbm.LGBMRegressor(n_estimators=8, verbose=-1)), ("enet", ElasticNet())]
    ),
}


@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_a_classifier_exports_with_the_same_probabilities(name: str) -> None:
    pipeline, table, columns = _fitted(name, CLASSIFIERS[name](), "classification")
    parity = check_parity(
        export_onnx(pipeline, columns), pipeline, table, columns, "classification"
    )
    assert parity.passed, parity
    assert parity.compared == "probabilities" and parity.rows == len(table)


@pytest.mark.parametrize("name", list(REGRESSORS))
def test_a_regressor_exports_with_the_same_predictions(name: str) -> None:
    pipeline, table, columns = _fitted(name, REGRESSORS[name](), "regression")
    parity = check_parity(export_onnx(pipeline, columns), pipeline, table, columns, "regression")
    assert parity.passed, parity


def test_the_check_fails_a_model_that_answers_differently() -> None:
    pipeline, table, columns = _fitted("a", LogisticRegression(max_iter=500), "classification")
    other, _, _ = _fitted(
        "b", RandomForestClassifier(n_estimators=2, random_state=1), "classification"
    )
    parity = check_parity(export_onnx(other, columns), pipeline, table, columns, "classification")
    assert not parity.passed and parity.max_abs_diff > 0.1
