"""The validation folds every candidate is scored on, and each candidate's out-of-fold
predictions on them.

One splitter (stratified for a classifier, shuffled, seed 0) is handed to every family's FLAML
search, so the families, the voting ensemble and the selection rule all read the same rows of
the same folds. FLAML keeps no predictions, so `BestTrialFolds` is the search's metric: it
scores each fold as FLAML would and keeps the best trial's predictions, which is what lets the
ensemble be scored without fitting anything again. A holdout is one fold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from modelyard.tabular.config import CLASSIFICATION
from modelyard.tabular.validation import Validation

# FLAML scores these from the probabilities (its `get_y_pred`), the others from the labels.
PROBABILITY_METRICS: Final = frozenset({"log_loss", "roc_auc", "roc_auc_ovr_weighted"})
HOLDOUT_SLICES: Final = 10  # a holdout's spread: its loss on this many slices of its rows


@dataclass(frozen=True)
class Scoring:
    """FLAML's metric for the search (`flaml_metric`), computed on predictions the way FLAML
    computes it, so that a loss scored here equals the trial's loss in FLAML's log."""

    flaml_metric: str
    task: str
    labels: np.ndarray | None  # a classifier's class indices (FLAML's `labels`)

    @property
    def classification(self) -> bool:
        return self.task == CLASSIFICATION

    def predict(self, model: Any, features: Any) -> np.ndarray:
        """A classifier's probabilities (what soft voting averages), a regressor's values."""
        if self.classification:
            return np.asarray(model.predict_proba(features), dtype=float)
        return np.asarray(model.predict(features), dtype=float).reshape(-1)

    def loss(self, predictions: np.ndarray, truth: np.ndarray) -> float:
        from flaml.automl.ml import sklearn_metric_loss_score

        scored = predictions
        if self.classification and self.flaml_metric not in PROBABILITY_METRICS:
            assert self.labels is not None
            scored = self.labels[np.argmax(predictions, axis=1)]
        elif self.flaml_metric == "roc_auc":  # binary: the positive class's probability
            scored = predictions[:, 1]
        try:
            return float(sklearn_metric_loss_score(self.flaml_metric, scored, truth, self.labels))
        except ValueError:  # as FLAML: a model answering inf or nan scores an infinite loss
            return float("inf")


@dataclass(frozen=True)
class OutOfFold:
    """One model's predictions on each validation fold, the fold's true values and losses."""

    predictions: tuple[np.ndarray, ...]
    truth: tuple[np.ndarray, ...]
    losses: tuple[float, ...]

    def same_folds(self, other: OutOfFold) -> bool:
        return len(self.truth) == len(other.truth) and all(
            np.array_equal(a, b) for a, b in zip(self.truth, other.truth, strict=True)
        )

    def spread_losses(self, scoring: Scoring) -> list[float]:
        """The losses whose spread measures the score's noise: one per fold, or for a
        holdout (one fold) one per slice of its rows."""
        if len(self.losses) > 1:
            return list(self.losses)
        slices = np.array_split(np.arange(len(self.truth[0])), HOLDOUT_SLICES)
        return [scoring.loss(self.predictions[0][s], self.truth[0][s]) for s in slices if len(s)]


def averaged(members: list[OutOfFold], scoring: Scoring) -> OutOfFold:
    """Soft voting's out-of-fold predictions: the members' averaged, fold by fold."""
    predictions = tuple(
        np.mean([m.predictions[f] for m in members], axis=0) for f in range(len(members[0].truth))
    )
    truth = members[0].truth
    losses = tuple(scoring.loss(p, t) for p, t in zip(predictions, truth, strict=True))
    return OutOfFold(predictions, truth, losses)


def splitter(validation: Validation, task: str) -> Any:
    """The folds FLAML searches on and everything after it reads (cross-validation only)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if task == CLASSIFICATION:
        return StratifiedKFold(validation.folds, shuffle=True, random_state=0)
    return KFold(validation.folds, shuffle=True, random_state=0)


class BestTrialFolds:
    """FLAML's metric and its fold aggregation for one family's search (`metric=` and
    `cv_score_agg_func=`): each fold scored with `scoring`, the best trial's predictions kept.

    FLAML calls `metric` once per fold in the splitter's order, then `aggregate` once per
    trial (under cross-validation; for a holdout `metric` once per trial and nothing else). A
    trial the time budget cuts short leaves calls with no `aggregate`: only the last calls,
    as many as the trial's folds, are that trial's."""

    def __init__(self, scoring: Scoring, holdout: bool) -> None:
        self.scoring = scoring
        self.holdout = holdout
        self.best_loss = float("inf")
        self.best: OutOfFold | None = None
        self._calls: list[tuple[float, np.ndarray, np.ndarray]] = []

    def metric(
        self, x_val: Any, y_val: Any, estimator: Any, *_unused: Any
    ) -> tuple[float, dict[str, float]]:
        started = time.perf_counter()
        predictions = self.scoring.predict(estimator, x_val)
        seconds = time.perf_counter() - started
        truth = np.asarray(y_val)
        loss = self.scoring.loss(predictions, truth)
        self._calls.append((loss, predictions, truth))
        if self.holdout:
            self._trial_ended(loss, folds=1)
        return loss, {"pred_time": seconds / max(1, len(truth))}

    def aggregate(self, val_loss_folds: list[float], log_metrics_folds: list[Any]) -> Any:
        from flaml.automl.ml import default_cv_score_agg_func

        loss, logged = default_cv_score_agg_func(val_loss_folds, log_metrics_folds)
        self._trial_ended(float(loss), folds=len(val_loss_folds))
        return loss, logged

    def _trial_ended(self, loss: float, folds: int) -> None:
        calls, self._calls = self._calls[-folds:], []
        if len(calls) == folds and loss < self.best_loss:
            self.best_loss = loss
            self.best = OutOfFold(
                tuple(c[1] for c in calls), tuple(c[2] for c in calls), tuple(c[0] for c in calls)
            )


def refitted_folds(
    model: Any,
    features: np.ndarray,
    label: np.ndarray,
    validation: Validation,
    scoring: Scoring,
    holdout: tuple[np.ndarray, np.ndarray] | None,
) -> OutOfFold:
    """The out-of-fold predictions of a model whose search kept none (a family an earlier
    attempt searched): its configuration fitted again on each fold's training rows. For a
    holdout the model itself, fitted on the training rows, predicts the holdout."""
    from sklearn.base import clone

    if holdout is not None:
        predictions = scoring.predict(model, holdout[0])
        return OutOfFold((predictions,), (holdout[1],), (scoring.loss(predictions, holdout[1]),))
    parts = []
    for train, val in splitter(validation, scoring.task).split(features, label):
        fold_model = clone(model).fit(features[train], label[train])
        predictions = scoring.predict(fold_model, features[val])
        parts.append((predictions, label[val], scoring.loss(predictions, label[val])))
    return OutOfFold(*(tuple(column) for column in zip(*parts, strict=True)))
