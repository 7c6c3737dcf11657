"""A soft-voting ensemble of the best families' models, scored by the same validation as the
families (Azure's VotingEnsemble): it joins the leaderboard and wins only if it scores better."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from modelyard.tabular.config import CLASSIFICATION, AutoMLConfig
from modelyard.tabular.validation import Validation

ENSEMBLE_FAMILY: Final = "VotingEnsemble"
MEMBERS_MAX: Final = 3


@dataclass(frozen=True)
class EnsembleInputs:
    features: np.ndarray
    label: np.ndarray
    validation: Validation
    holdout: tuple[np.ndarray, np.ndarray] | None


def voting_entry(
    entries: Sequence[dict[str, Any]], inputs: EnsembleInputs, config: AutoMLConfig
) -> list[dict[str, Any]]:
    """The ensemble's leaderboard entry, or none with fewer than two families to join."""
    metric = config.metric
    ranked = sorted(entries, key=lambda e: e[metric.name], reverse=metric.higher_is_better)
    members = ranked[:MEMBERS_MAX]
    if len(members) < 2:
        return []
    model = _voting_model(members, config.task)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = _validated_score(model, inputs, config)
    return [
        {
            "model": model,
            "family": ENSEMBLE_FAMILY,
            "estimator": "+".join(str(m["estimator"]) for m in members),
            "trials": 0,
            metric.name: score if metric.higher_is_better else -score,
        }
    ]


def _voting_model(members: Sequence[dict[str, Any]], task: str) -> Any:
    from sklearn.base import clone
    from sklearn.ensemble import VotingClassifier, VotingRegressor

    estimators = [(str(m["estimator"]), clone(m["model"])) for m in members]
    if task == CLASSIFICATION:
        # flatten_transform=False: the ONNX converter takes no other (the predictions agree).
        return VotingClassifier(estimators, voting="soft", flatten_transform=False)
    return VotingRegressor(estimators)


def _validated_score(model: Any, inputs: EnsembleInputs, config: AutoMLConfig) -> float:
    """scikit-learn's score (greater is better); the model is left fitted as the families'
    are: on every row under cross-validation, on the training rows for a holdout."""
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    scorer = get_scorer(config.metric.sklearn_scorer)
    if inputs.holdout is None:
        folds = inputs.validation.folds
        splitter = (
            StratifiedKFold(folds, shuffle=True, random_state=0)
            if config.task == CLASSIFICATION
            else KFold(folds, shuffle=True, random_state=0)
        )
        scores = cross_val_score(model, inputs.features, inputs.label, cv=splitter, scoring=scorer)
        model.fit(inputs.features, inputs.label)
        return float(np.mean(scores))
    model.fit(inputs.features, inputs.label)
    return float(scorer(model, *inputs.holdout))
