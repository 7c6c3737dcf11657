"""Which leaderboard entry is exported: the one-standard-error rule, not the top score.

Each family's score is the best of its trials, hundreds or thousands of them on a small table,
so the top of the leaderboard is partly the luckiest draw (winner's curse): on iris the family
with the best cross-validated maximum scored two test rows below FLAML's choice. Every entry is
scored on the same folds, so the spread of the best entry's fold scores says how far apart two
entries may be by chance. The rule (Breiman's): the finalists are the entries whose mean is
within one standard error of the best mean; of those, the family that searched the fewest
hyperparameters (the least room for a lucky maximum; the voting ensemble the most), then the
smaller spread over folds, then the better mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from modelyard.tabular.config import PrimaryMetric
from modelyard.tabular.folds import Scoring

RULE: Final = (
    "one standard error: of the models whose mean validation score is within one standard"
    " error of the best mean, the one that searched the fewest hyperparameters, then the"
    " smaller spread over folds, then the better mean"
)

# The hyperparameters FLAML searches per family (its search spaces; the voting ensemble counts
# its members'). Also the order the families are searched in: the small spaces converge in
# seconds and hand the rest of their share on (`train.py`).
HYPERPARAMETERS: Final[Mapping[str, int]] = {
    "LogisticRegression": 1,
    "KNN": 1,
    "ElasticNet": 2,
    "RandomForest": 4,
    "ExtremeRandomTrees": 4,
    "LightGBM": 8,
    "XGBoostClassifier": 9,
    "XGBoostRegressor": 9,
}
UNKNOWN_FAMILY: Final = 99


@dataclass(frozen=True)
class Candidate:
    family: str
    mean: float  # the leaderboard's score (higher or lower is better as the metric says)
    std: float  # over folds (or a holdout's slices); nan with one
    folds: int
    hyperparameters: int

    @property
    def standard_error(self) -> float:
        return self.std / math.sqrt(self.folds) if self.folds > 1 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "score": self.mean,
            "std": None if math.isnan(self.std) else self.std,
            "standard_error": self.standard_error,
            "folds": self.folds,
            "hyperparameters": self.hyperparameters,
        }


@dataclass(frozen=True)
class Selection:
    chosen: str
    best: str  # the top mean
    threshold: float  # the score a finalist reaches
    finalists: tuple[Candidate, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": RULE,
            "best_mean": self.best,
            "threshold": self.threshold,
            "finalists": [c.to_dict() for c in self.finalists],
            "chosen": self.chosen,
        }

    def describe(self, metric: PrimaryMetric) -> str:
        """The run's log line."""
        finalists = ", ".join(
            f"{c.family} {c.mean:.4f}" + ("" if math.isnan(c.std) else f" (sd {c.std:.4f})")
            for c in self.finalists
        )
        reach = "≥" if metric.higher_is_better else "≤"
        return (
            f"selection by one standard error: best mean {self.best}; finalists"
            f" ({metric.name} {reach} {self.threshold:.4f}): {finalists}; chosen {self.chosen}"
        )


def hyperparameters(families: Sequence[str]) -> int:
    return sum(HYPERPARAMETERS.get(family, UNKNOWN_FAMILY) for family in families)


def candidate(entry: Mapping[str, Any], metric: PrimaryMetric, scoring: Scoring) -> Candidate:
    """An entry's mean and spread: its fold scores where it has out-of-fold predictions."""
    searched = hyperparameters(entry.get("members") or [entry["family"]])
    score = float(entry[metric.name])
    out_of_fold = entry.get("out_of_fold")
    if out_of_fold is None:
        return Candidate(entry["family"], score, math.nan, 1, searched)
    # A holdout's slice without a row of some class has no AUC (an infinite loss): left out.
    losses = [loss for loss in out_of_fold.spread_losses(scoring) if math.isfinite(loss)]
    spread = [metric.value_of_loss(loss) for loss in losses]
    std = float(np.std(spread, ddof=1)) if len(spread) > 1 else math.nan
    return Candidate(entry["family"], score, std, len(spread), searched)


def select(
    entries: Sequence[Mapping[str, Any]], metric: PrimaryMetric, scoring: Scoring
) -> Selection:
    candidates = [candidate(entry, metric, scoring) for entry in entries]
    sign = 1.0 if metric.higher_is_better else -1.0
    best = max(candidates, key=lambda c: sign * c.mean)
    threshold = best.mean - sign * best.standard_error
    finalists = tuple(c for c in candidates if sign * (c.mean - threshold) >= -1e-12)
    chosen = min(
        finalists,
        key=lambda c: (
            c.hyperparameters,
            math.inf if math.isnan(c.std) else c.std,
            -sign * c.mean,
        ),
    )
    return Selection(chosen.family, best.family, threshold, finalists)
