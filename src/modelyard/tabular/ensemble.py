"""A soft-voting ensemble of the best families' models (Azure's VotingEnsemble): it joins the
leaderboard and wins only if it scores better.

Nothing is fitted for it. It is scored on its members' out-of-fold predictions, averaged fold
by fold, on the very folds the members were scored on (`folds.averaged`); and its members are
the families' models as they are, already fitted on the rows the ensemble would be fitted on
(every row under cross-validation, the training rows for a holdout).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from modelyard.tabular.config import CLASSIFICATION, AutoMLConfig
from modelyard.tabular.folds import Scoring, averaged

ENSEMBLE_FAMILY: Final = "VotingEnsemble"
MEMBERS_MAX: Final = 3


def voting_entry(
    entries: Sequence[dict[str, Any]], config: AutoMLConfig, scoring: Scoring
) -> list[dict[str, Any]]:
    """The ensemble's leaderboard entry, or none with fewer than two families to join (a
    family without out-of-fold predictions can't be one)."""
    metric = config.metric
    ranked = sorted(
        (e for e in entries if e.get("out_of_fold") is not None),
        key=lambda e: e[metric.name],
        reverse=metric.higher_is_better,
    )
    members = ranked[:MEMBERS_MAX]
    if len(members) < 2 or not all(
        m["out_of_fold"].same_folds(members[0]["out_of_fold"]) for m in members
    ):
        return []
    out_of_fold = averaged([m["out_of_fold"] for m in members], scoring)
    loss = float(np.mean(out_of_fold.losses))
    return [
        {
            "model": prefitted_voting(members, config.task),
            "family": ENSEMBLE_FAMILY,
            "estimator": "+".join(str(m["estimator"]) for m in members),
            "members": [m["family"] for m in members],
            "trials": 0,
            metric.name: metric.value_of_loss(loss),
            "out_of_fold": out_of_fold,
        }
    ]


def prefitted_voting(members: Sequence[dict[str, Any]], task: str) -> Any:
    """scikit-learn's voting model over the members' fitted models, set up as its `fit`
    leaves it (it has no way to take fitted models), so they are not fitted again."""
    from sklearn.ensemble import VotingClassifier, VotingRegressor
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import Bunch

    estimators = [(str(m["estimator"]), m["model"]) for m in members]
    model: Any
    if task == CLASSIFICATION:
        # flatten_transform=False: the ONNX converter takes no other (the predictions agree).
        model = VotingClassifier(estimators, voting="soft", flatten_transform=False)
        classes = members[0]["model"].classes_
        model.le_ = LabelEncoder().fit(classes)
        model.classes_ = model.le_.classes_
    else:
        model = VotingRegressor(estimators)
    model.estimators_ = [fitted for _, fitted in estimators]
    model.named_estimators_ = Bunch(**dict(estimators))
    return model
