"""Permutation feature importance of the best model: how much the primary metric drops when
one column's values are shuffled (scikit-learn's `permutation_importance`), per table column,
the featurization included. It runs on a bounded sample of rows, with as many repeats (up to
`REPEATS`) as the time left in the budget pays for: one at the least, on fewer rows (down to
`IMPORTANCE_ROWS_MIN`) where even one would not fit."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from modelyard.tabular.config import PrimaryMetric
from modelyard.tabular.featurize import FeatureColumn

IMPORTANCE_FILE: Final = "feature_importance.json"
IMPORTANCE_ROWS_MAX: Final = 1_000
IMPORTANCE_ROWS_MIN: Final = 200  # fewer only where the table has fewer
REPEATS: Final = 5


def permutation_importance_of(
    pipeline: Any,
    frame: pd.DataFrame,
    label: np.ndarray,
    columns: Sequence[FeatureColumn],
    metric: PrimaryMetric,
    seconds: float = float("inf"),
) -> dict[str, Any]:
    """The artifact: columns from most to least important, with the spread over repeats;
    `seconds`: the time it may take, which sets the repeats."""
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import get_scorer

    scorer = get_scorer(metric.sklearn_scorer)
    rows = min(len(frame), IMPORTANCE_ROWS_MAX)
    sample, sample_label = _sample(frame, label, rows)
    started = time.perf_counter()
    scorer(pipeline, sample, sample_label)  # one scoring's time: a repeat is one per column
    scoring_s = time.perf_counter() - started
    affordable = rows * seconds / max(scoring_s * len(columns), 1e-9)  # inf: no time limit
    if affordable < rows:  # not even one repeat on these rows fits: fewer rows
        fewer = max(min(rows, IMPORTANCE_ROWS_MIN), int(affordable))
        scoring_s *= fewer / rows
        rows = fewer
        sample, sample_label = _sample(frame, label, rows)
    repeats = repeats_for(seconds, scoring_s, len(columns))
    result = permutation_importance(
        pipeline,
        sample,
        sample_label,
        scoring=scorer,
        n_repeats=repeats,
        random_state=0,
        n_jobs=1,
    )
    ranked = sorted(
        (
            {
                "column": column.name,
                "importance": float(result.importances_mean[index]),
                "std": float(result.importances_std[index]),
            }
            for index, column in enumerate(columns)
        ),
        key=lambda item: -float(item["importance"]),  # type: ignore[arg-type]
    )
    return {"metric": metric.name, "rows": rows, "repeats": repeats, "features": ranked}


def _sample(frame: pd.DataFrame, label: np.ndarray, rows: int) -> tuple[pd.DataFrame, np.ndarray]:
    positions = np.sort(np.random.RandomState(0).choice(len(frame), rows, replace=False))
    return frame.iloc[positions], label[positions]


def repeats_for(seconds: float, scoring_s: float, columns: int) -> int:
    """The repeats that fit in `seconds` when one scoring takes `scoring_s`: each repeat
    scores the rows once per column."""
    affordable = seconds / max(scoring_s * columns, 1e-9)  # inf: no time limit
    return max(1, min(REPEATS, int(min(affordable, REPEATS))))
