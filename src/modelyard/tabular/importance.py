"""Permutation feature importance of the best model: how much the primary metric drops when
one column's values are shuffled (scikit-learn's `permutation_importance`), per table column,
the featurization included."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from modelyard.tabular.config import PrimaryMetric
from modelyard.tabular.featurize import FeatureColumn

IMPORTANCE_FILE: Final = "feature_importance.json"
IMPORTANCE_ROWS_MAX: Final = 2_000
REPEATS: Final = 5


def permutation_importance_of(
    pipeline: Any,
    frame: pd.DataFrame,
    label: np.ndarray,
    columns: Sequence[FeatureColumn],
    metric: PrimaryMetric,
) -> dict[str, Any]:
    """The artifact: columns from most to least important, with the spread over repeats."""
    from sklearn.inspection import permutation_importance

    rows = min(len(frame), IMPORTANCE_ROWS_MAX)
    result = permutation_importance(
        pipeline,
        frame.head(rows),
        label[:rows],
        scoring=metric.sklearn_scorer,
        n_repeats=REPEATS,
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
    return {"metric": metric.name, "rows": rows, "repeats": REPEATS, "features": ranked}
