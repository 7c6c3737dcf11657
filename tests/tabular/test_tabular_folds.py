"""A family's FLAML search scores the shared folds and keeps its best trial's out-of-fold
predictions; the voting ensemble is scored on them without fitting anything again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from modelyard.tabular import ensemble
from modelyard.tabular.config import AutoMLConfig
from modelyard.tabular.export import check_parity, export_onnx, pipeline_of
from modelyard.tabular.featurize import build_featurizer, feature_columns, model_frame
from modelyard.tabular.folds import Scoring, refitted_folds, splitter
from modelyard.tabular.search import search_family
from modelyard.tabular.validation import choose_validation
from tabular.conftest import LABEL, bundled_frame

FAMILIES = ["LogisticRegression", "RandomForest"]


@pytest.fixture(scope="module")
def iris_searched(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Iris under 10-fold cross-validation, LogisticRegression and RandomForest searched 4 s
    each."""
    frame = bundled_frame("iris")
    features_frame = frame.drop(columns=[LABEL])
    columns = feature_columns(features_frame)
    table = model_frame(features_frame, columns)
    featurizer = build_featurizer(columns).fit(table)
    features = np.asarray(featurizer.transform(table), dtype=np.float32)
    label = frame[LABEL].to_numpy(dtype=np.int64)
    config = AutoMLConfig("classification", "iris.csv", LABEL, allowed_models=FAMILIES)
    validation = choose_validation(len(label), smallest_class=50)
    scoring = Scoring("accuracy", "classification", np.arange(3))
    folder = tmp_path_factory.mktemp("folds")
    results = {
        family: search_family(
            config, family, features, label, validation, 4.0, folder / f"{family}.log", scoring
        )
        for family in FAMILIES
    }
    return {
        "results": results,
        "features": features,
        "label": label,
        "validation": validation,
        "scoring": scoring,
        "config": config,
        "featurizer": featurizer,
        "table": table,
        "columns": columns,
    }


def test_the_best_trials_predictions_are_kept_on_our_folds(tmp_path: Path) -> None:
    """Diabetes under 10-fold cross-validation, ElasticNet (coordinate descent: the same fit
    whatever the order of the rows, which FLAML shuffles within a fold)."""
    features, label = _diabetes()
    config = AutoMLConfig("regression", "d.csv", LABEL, allowed_models=["ElasticNet"])
    validation = choose_validation(len(label))
    scoring = Scoring("r2", "regression", None)
    result = search_family(
        config, "ElasticNet", features, label, validation, 3.0, tmp_path / "enet.log", scoring
    )
    out_of_fold = result.out_of_fold
    assert out_of_fold is not None and validation.folds == 10
    # The folds FLAML scored are the splitter's, in its order, and the loss FLAML kept as the
    # family's best is the mean of the kept folds' losses.
    folds = list(splitter(validation, "regression").split(features, label))
    assert len(out_of_fold.truth) == 10
    for (_, val), truth in zip(folds, out_of_fold.truth, strict=True):
        assert np.array_equal(truth, label[val])
    assert result.best_loss == pytest.approx(np.mean(out_of_fold.losses))
    # The best configuration fitted again on each fold's training rows predicts what the
    # search kept.
    again = refitted_folds(result.model, features, label, validation, scoring, None)
    for kept, refitted in zip(out_of_fold.predictions, again.predictions, strict=True):
        assert np.allclose(kept, refitted, rtol=1e-4, atol=1e-3)
    assert again.losses == pytest.approx(out_of_fold.losses, rel=1e-4)


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    frame = bundled_frame("diabetes")
    return frame.drop(columns=[LABEL]).to_numpy(dtype=np.float32), frame[LABEL].to_numpy(float)


def test_the_ensemble_is_scored_on_its_members_folds_and_fitted_by_none(iris_searched) -> None:
    results = iris_searched["results"]
    config, scoring = iris_searched["config"], iris_searched["scoring"]
    entries = [
        {
            "model": r.model,
            "family": r.family,
            "estimator": r.estimator,
            "trials": len(r.trials),
            "accuracy": 1 - r.best_loss,
            "out_of_fold": r.out_of_fold,
        }
        for r in results.values()
    ]
    [entry] = ensemble.voting_entry(entries, config, scoring)
    assert sorted(entry["members"]) == sorted(FAMILIES)
    members = [results[family].out_of_fold for family in entry["members"]]
    expected = [
        accuracy_score(truth, np.argmax((a + b) / 2, axis=1))
        for truth, a, b in zip(
            members[0].truth, members[0].predictions, members[1].predictions, strict=True
        )
    ]
    assert entry["out_of_fold"].same_folds(members[0])
    assert entry["accuracy"] == pytest.approx(np.mean(expected))
    # The members are the families' fitted models themselves.
    model = entry["model"]
    assert [id(m) for m in model.estimators_] == [
        id(results[family].model) for family in entry["members"]
    ]
    features = iris_searched["features"]
    averaged = np.mean([results[f].model.predict_proba(features) for f in entry["members"]], 0)
    assert np.allclose(model.predict_proba(features), averaged)
    # As fitted, it exports to ONNX with the same answers.
    pipeline = pipeline_of(iris_searched["featurizer"], model)
    onnx_bytes = export_onnx(pipeline, iris_searched["columns"])
    parity = check_parity(
        onnx_bytes, pipeline, iris_searched["table"], iris_searched["columns"], "classification"
    )
    assert parity.passed, parity


def test_a_family_without_predictions_stays_out_of_the_ensemble(iris_searched) -> None:
    results = iris_searched["results"]
    entries = [
        {"model": r.model, "family": r.family, "estimator": r.estimator, "trials": 1}
        | {
            "accuracy": 1 - r.best_loss,
            "out_of_fold": None if r.family == "RandomForest" else r.out_of_fold,
        }
        for r in results.values()
    ]
    assert ensemble.voting_entry(entries, iris_searched["config"], iris_searched["scoring"]) == []


def test_a_holdout_is_one_fold_scored_slice_by_slice(tmp_path: Path) -> None:
    features, label = _diabetes()
    config = AutoMLConfig("regression", "d.csv", LABEL, allowed_models=["ElasticNet"])
    validation = choose_validation(len(label), "holdout")
    scoring = Scoring("r2", "regression", None)
    train, held = slice(0, 350), slice(350, None)
    result = search_family(
        config,
        "ElasticNet",
        features[train],
        label[train],
        validation,
        1.5,
        tmp_path / "enet.log",
        scoring,
        (features[held], label[held]),
    )
    out_of_fold = result.out_of_fold
    assert out_of_fold is not None and len(out_of_fold.truth) == 1
    assert np.array_equal(out_of_fold.truth[0], label[held])
    assert np.allclose(out_of_fold.predictions[0], result.model.predict(features[held]))
    assert result.best_loss == pytest.approx(out_of_fold.losses[0])
    assert len(out_of_fold.spread_losses(scoring)) == 10
