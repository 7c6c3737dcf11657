"""The split of the time budget: quick families first, the steps after the searches reserved."""

from __future__ import annotations

import time

import pytest

from modelyard.tabular.budget import (
    EXPORT_S,
    FINAL_FIXED_S,
    IMPORTANCE_SHARE,
    Allotment,
    BudgetClock,
    reserve_s,
    search_order,
)
from modelyard.tabular.config import MIN_SECONDS_PER_FAMILY, MODEL_FAMILIES, AutoMLConfig
from modelyard.tabular.search import FamilyResult, Trial


def test_the_families_whose_search_converges_in_seconds_come_first() -> None:
    assert search_order(MODEL_FAMILIES["classification"]) == [
        "LogisticRegression",
        "KNN",
        "RandomForest",
        "ExtremeRandomTrees",
        "LightGBM",
        "XGBoostClassifier",
    ]
    assert search_order(MODEL_FAMILIES["regression"])[:2] == ["KNN", "ElasticNet"]
    # The order the user listed them in does not matter.
    config = AutoMLConfig("classification", "t.csv", "y", allowed_models=["LightGBM", "KNN"])
    assert search_order(config.families) == ["KNN", "LightGBM"]


def test_the_reserve_grows_with_the_slowest_final_fit_seen() -> None:
    nothing_yet = reserve_s(60, [], folds=10)
    assert nothing_yet == pytest.approx(FINAL_FIXED_S + EXPORT_S + IMPORTANCE_SHARE * 60)
    searched = [
        FamilyResult("KNN", "kneighbor", [Trial(0.1, 0.3, {}), Trial(0.05, 0.2, {})], 0.05),
        FamilyResult("LightGBM", "lgbm", [Trial(0.2, 1.0, {}), Trial(0.04, 4.0, {})], 0.04),
    ]
    # LightGBM's best trial took 4 s for 10 folds: its final fit on every row ~0.4 s.
    assert reserve_s(60, searched, folds=10) == pytest.approx(nothing_yet + 0.4)
    assert reserve_s(60, searched, folds=0) == pytest.approx(nothing_yet)  # a holdout
    # Searches that ran past their budget by 2 s and 0 s: the next is expected 1 s past its.
    overran = [
        Allotment("KNN", 5.0, 20.0, 4.0, searched_s=7.0),
        Allotment("LightGBM", 5.0, 15.0, 4.0, searched_s=4.0),
    ]
    assert reserve_s(60, searched, 10, overran) == pytest.approx(nothing_yet + 1.0)


def test_each_family_gets_an_equal_share_of_what_is_left_before_the_reserve() -> None:
    clock = BudgetClock(30.0, started=time.monotonic() - 10.0)  # 10 s spent already
    first = clock.allot("KNN", families_left=4, reserve_s=4.0)
    assert first.left_s == pytest.approx(16.0, abs=0.05)
    assert first.allotted_s == pytest.approx(4.0, abs=0.05)
    clock.spent_before = 14.5  # an earlier attempt's searches
    late = clock.allot("LightGBM", families_left=2, reserve_s=4.0)
    assert late.allotted_s == MIN_SECONDS_PER_FAMILY  # nothing left: one trial's worth
