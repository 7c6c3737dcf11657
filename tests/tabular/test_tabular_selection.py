"""The exported model is chosen by the one-standard-error rule, not by the top score."""

from __future__ import annotations

import numpy as np
import pytest

from modelyard.tabular.config import PRIMARY_METRICS
from modelyard.tabular.folds import OutOfFold, Scoring
from modelyard.tabular.selection import RULE, select

ACCURACY = PRIMARY_METRICS["classification"]["accuracy"]
RMSE = PRIMARY_METRICS["regression"]["root_mean_squared_error"]
SCORING = Scoring("accuracy", "classification", np.arange(2))


def entry(family: str, fold_losses: list[float], metric=ACCURACY, **more: object) -> dict:
    folds = OutOfFold(
        tuple(np.zeros((1, 2)) for _ in fold_losses),
        tuple(np.zeros(1) for _ in fold_losses),
        tuple(fold_losses),
    )
    return {
        "family": family,
        metric.name: metric.value_of_loss(float(np.mean(fold_losses))),
        "out_of_fold": folds,
        **more,
    }


def test_a_simpler_family_within_one_standard_error_beats_the_top_score() -> None:
    # XGBoost's mean 0.96 (sd 0.0516 over 10 folds: SE 0.0163); logistic regression's 0.95 is
    # within it, k-NN's 0.93 is not.
    entries = [
        entry("XGBoostClassifier", [0.0, 0.0, 0.1, 0.0, 0.1, 0.0, 0.0, 0.1, 0.0, 0.1]),
        entry("LogisticRegression", [0.0, 0.1, 0.1, 0.0, 0.1, 0.0, 0.0, 0.1, 0.0, 0.1]),
        entry("KNN", [0.1, 0.1, 0.1, 0.0, 0.1, 0.0, 0.1, 0.1, 0.0, 0.1]),
    ]
    selection = select(entries, ACCURACY, SCORING)
    assert selection.best == "XGBoostClassifier"
    assert selection.chosen == "LogisticRegression"
    assert selection.threshold == pytest.approx(
        0.96 - np.std([0, 0, 1, 0, 1] * 2, ddof=1) / 10 / np.sqrt(10)
    )
    recorded = selection.to_dict()
    assert recorded["rule"] == RULE
    assert [f["family"] for f in recorded["finalists"]] == [
        "XGBoostClassifier",
        "LogisticRegression",
    ]
    assert recorded["finalists"][1]["hyperparameters"] < recorded["finalists"][0]["hyperparameters"]
    assert "chosen LogisticRegression" in selection.describe(ACCURACY)


def test_the_top_score_stays_when_nothing_simpler_comes_close() -> None:
    entries = [
        entry("LightGBM", [0.0, 0.0, 0.0, 0.0, 0.0, 0.01, 0.0, 0.0, 0.0, 0.0]),
        entry("LogisticRegression", [0.2] * 10),
    ]
    selection = select(entries, ACCURACY, SCORING)
    assert selection.chosen == "LightGBM"
    assert [c.family for c in selection.finalists] == ["LightGBM"]


def test_among_equally_simple_finalists_the_steadier_wins() -> None:
    entries = [
        entry("KNN", [0.0, 0.2, 0.0, 0.2]),  # mean 0.9, sd 0.115
        entry("LogisticRegression", [0.1, 0.1, 0.1, 0.12]),  # mean 0.895, sd 0.01
    ]
    assert select(entries, ACCURACY, SCORING).chosen == "LogisticRegression"


def test_the_ensemble_counts_its_members_hyperparameters() -> None:
    entries = [
        entry("VotingEnsemble", [0.0, 0.1, 0.0, 0.1], members=["LogisticRegression", "KNN"]),
        entry("RandomForest", [0.0, 0.1, 0.0, 0.1]),
    ]
    # Level scores: the ensemble of two one-hyperparameter families searched 2, the forest 4.
    assert select(entries, ACCURACY, SCORING).chosen == "VotingEnsemble"


def test_a_lower_is_better_metric_looks_the_other_way() -> None:
    entries = [
        entry("LightGBM", [50.0, 54.0, 52.0, 56.0], RMSE),  # mean 53, SE 1.29
        entry("ElasticNet", [53.0, 54.0, 54.0, 55.0], RMSE),  # mean 54: within
        entry("KNN", [60.0, 60.0, 61.0, 61.0], RMSE),
    ]
    selection = select(entries, RMSE, Scoring("rmse", "regression", None))
    assert selection.best == "LightGBM" and selection.chosen == "ElasticNet"
    assert selection.threshold == pytest.approx(53 + np.std([50, 54, 52, 56], ddof=1) / 2)
