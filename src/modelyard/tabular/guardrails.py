"""Azure AutoML's data guardrails for a table, checked before any fitting.

Each check ends Passed (nothing found), Done (found and handled: said how) or Alerted (found,
left for the user to judge; the column may be left out); Failed stops the run before any
training. The report is `guardrails.json`, in the image trainer's shape (`passed`, `summary`,
`errors`, `warnings`), so the portal's guardrails tab reads it, plus every check by name.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from modelyard.fileio import write_json_atomic
from modelyard.tabular.config import CLASSIFICATION, REGRESSION

GUARDRAILS_FILE: Final = "guardrails.json"
MIN_ROWS_PER_CLASS: Final = 2  # fewer: the class can be neither trained on nor validated
FEW_ROWS_PER_CLASS: Final = 10
IMBALANCE_RATIO_MIN: Final = 0.2  # smallest class / largest class, Azure's threshold
HIGH_CARDINALITY_RATIO: Final = 0.9  # of the rows distinct in a text column: an identifier
HIGH_CARDINALITY_ROWS_MIN: Final = 20
LEAKAGE_SCORE_MIN: Final = 0.99  # one column alone predicts this well: it leaks the label
LEAKAGE_ROWS_MIN: Final = 10
LEAKAGE_SAMPLE_ROWS: Final = 2_000


class CheckStatus(StrEnum):
    PASSED = "Passed"
    DONE = "Done"
    ALERTED = "Alerted"
    FAILED = "Failed"


@dataclass(frozen=True)
class GuardrailCheck:
    name: str
    status: CheckStatus
    detail: str
    fix: str = ""
    columns: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.name,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
            "columns": list(self.columns),
            "path": None,
            "label": None,
        }


@dataclass
class CheckedTable:
    """The table as the checks leave it: features and label, rows and columns dropped."""

    features: pd.DataFrame
    label: pd.Series
    task: str
    checks: list[GuardrailCheck] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(check.status is CheckStatus.FAILED for check in self.checks)

    @property
    def class_counts(self) -> dict[str, int]:
        if self.task != CLASSIFICATION:
            return {}
        return {str(k): int(v) for k, v in self.label.value_counts().sort_index().items()}

    def summary_line(self) -> str:
        failed = [check for check in self.checks if check.status is CheckStatus.FAILED]
        if failed:
            first = failed[0]
            line = f"guardrails failed: {first.detail}"
            return f"{line}; fix: {first.fix}" if first.fix else line
        noted = [check.name for check in self.checks if check.status is not CheckStatus.PASSED]
        line = f"guardrails passed: {len(self.label)} rows, {self.features.shape[1]} features"
        return f"{line}; handled or alerted: {', '.join(noted)}" if noted else line

    def to_dict(self) -> dict[str, Any]:
        failed = [c.to_dict() for c in self.checks if c.status is CheckStatus.FAILED]
        noted = [c.to_dict() for c in self.checks if c.status in _NOTED]
        return {
            "passed": self.passed,
            "summary": self.summary_line(),
            "task": self.task,
            "row_count": len(self.label),
            "feature_count": self.features.shape[1],
            "class_counts": self.class_counts,
            "checks": [check.to_dict() for check in self.checks],
            "errors": failed,
            "warnings": noted,
            "limits": limits(),
        }


_NOTED: Final = (CheckStatus.DONE, CheckStatus.ALERTED)


def limits() -> dict[str, float]:
    return {
        "min_rows_per_class": MIN_ROWS_PER_CLASS,
        "few_rows_per_class": FEW_ROWS_PER_CLASS,
        "imbalance_ratio_min": IMBALANCE_RATIO_MIN,
        "high_cardinality_ratio": HIGH_CARDINALITY_RATIO,
        "leakage_score_min": LEAKAGE_SCORE_MIN,
    }


def write_report(table: CheckedTable, path: Path) -> None:
    write_json_atomic(path, table.to_dict())


def check_table(frame: pd.DataFrame, label: str, task: str) -> CheckedTable:
    """Run every check in order; a Failed check ends the list (the later ones need its fix)."""
    table = CheckedTable(frame.drop(columns=[label]), frame[label], task)
    for check in _CHECKS[task]:
        table.checks.append(check(table))
        if not table.passed:
            break
    return table


# The label ---------------------------------------------------------------------------------


def _label_values(table: CheckedTable) -> GuardrailCheck:
    missing = table.label.isna()
    if missing.all():
        return _failed("label_values", "every row's label is empty", "fill in the label column")
    if not missing.any():
        return GuardrailCheck("label_values", CheckStatus.PASSED, "every row has a label")
    _keep_rows(table, ~missing)
    return GuardrailCheck(
        "label_values",
        CheckStatus.DONE,
        f"{int(missing.sum())} rows without a label were left out",
    )


def _label_classes(table: CheckedTable) -> GuardrailCheck:
    table.label = table.label.astype(str)
    classes = table.label.nunique()
    if classes < 2:
        only = table.label.iloc[0]
        return _failed(
            "label_classes",
            f"the label has one class ({only!r}): there is nothing to tell apart",
            "add rows of at least one other class, or choose another label column",
        )
    return GuardrailCheck("label_classes", CheckStatus.PASSED, f"{classes} classes")


def _numeric_target(table: CheckedTable) -> GuardrailCheck:
    values = pd.to_numeric(table.label, errors="coerce")
    bad = values.isna()
    if bad.any():
        example = table.label[bad].iloc[0]
        return _failed(
            "numeric_target",
            f"regression needs a numeric label, and {int(bad.sum())} values are not numbers"
            f" (such as {example!r})",
            "use --task classification for categories, or clean the label column",
        )
    table.label = values.astype(float)
    if table.label.nunique() < 2:
        return _failed(
            "numeric_target",
            f"the label has one value ({table.label.iloc[0]!r}): there is nothing to predict",
            "choose a label column whose values vary",
        )
    return GuardrailCheck("numeric_target", CheckStatus.PASSED, "the label is numeric")


def _rows_per_class(table: CheckedTable) -> GuardrailCheck:
    counts = table.label.value_counts()
    too_few = counts[counts < MIN_ROWS_PER_CLASS]
    if len(too_few):
        return _failed(
            "rows_per_class",
            f"class {too_few.index[0]!r} has {int(too_few.iloc[0])} row: each class needs at"
            f" least {MIN_ROWS_PER_CLASS} to be trained on and validated",
            "add rows of that class, or remove it from the table",
        )
    few = counts[counts < FEW_ROWS_PER_CLASS]
    if len(few):
        listed = ", ".join(f"{name!r} ({int(count)})" for name, count in few.items())
        return GuardrailCheck(
            "rows_per_class",
            CheckStatus.ALERTED,
            f"classes with fewer than {FEW_ROWS_PER_CLASS} rows: {listed}",
            "add rows to these classes: the model sees too few of them to learn them well",
        )
    return GuardrailCheck(
        "rows_per_class", CheckStatus.PASSED, f"every class has {FEW_ROWS_PER_CLASS}+ rows"
    )


def _class_imbalance(table: CheckedTable) -> GuardrailCheck:
    counts = table.label.value_counts()
    ratio = float(counts.min() / counts.max())
    if ratio >= IMBALANCE_RATIO_MIN:
        return GuardrailCheck(
            "class_imbalance", CheckStatus.PASSED, f"smallest/largest class {ratio:.2f}"
        )
    return GuardrailCheck(
        "class_imbalance",
        CheckStatus.ALERTED,
        f"class {counts.idxmin()!r} has {int(counts.min())} rows against {int(counts.max())}"
        f" of {counts.idxmax()!r} (ratio {ratio:.2f} < {IMBALANCE_RATIO_MIN})",
        "add rows of the small classes, or judge the model by a metric that weighs classes"
        " (--primary-metric AUC_weighted)",
    )


# The feature columns -----------------------------------------------------------------------


def _all_missing_columns(table: CheckedTable) -> GuardrailCheck:
    empty = [str(c) for c in table.features.columns if table.features[c].isna().all()]
    return _dropped("all_missing_columns", table, empty, "have no value in any row")


def _constant_columns(table: CheckedTable) -> GuardrailCheck:
    constant = [str(c) for c in table.features.columns if table.features[c].nunique() <= 1]
    return _dropped("constant_columns", table, constant, "hold one value in every row")


def _high_cardinality(table: CheckedTable) -> GuardrailCheck:
    rows = len(table.label)
    identifiers = [
        str(column)
        for column in table.features.columns
        if not is_numeric_column(table.features[column])
        and rows >= HIGH_CARDINALITY_ROWS_MIN
        and table.features[column].nunique() > HIGH_CARDINALITY_RATIO * rows
    ]
    return _dropped(
        "high_cardinality", table, identifiers, "are text with a distinct value in most rows"
    )


def _missing_values(table: CheckedTable) -> GuardrailCheck:
    counts = table.features.isna().sum()
    gaps = counts[counts > 0]
    if not len(gaps):
        return GuardrailCheck("missing_values", CheckStatus.PASSED, "no missing values")
    listed = ", ".join(f"{name!r} ({int(count)})" for name, count in gaps.items())
    return GuardrailCheck(
        "missing_values",
        CheckStatus.DONE,
        f"missing values imputed, numeric columns with the column's median and text columns as"
        f" a category of their own: {listed}",
        columns=tuple(str(name) for name in gaps.index),
    )


def _label_leakage(table: CheckedTable) -> GuardrailCheck:
    if len(table.label) < LEAKAGE_ROWS_MIN:
        return GuardrailCheck(
            "label_leakage", CheckStatus.PASSED, "too few rows to check; nothing found"
        )
    sample = table.features.sample(
        n=min(len(table.label), LEAKAGE_SAMPLE_ROWS), random_state=0
    ).index
    leaks = [
        str(column)
        for column in table.features.columns
        if _one_column_score(table.features.loc[sample, column], table.label[sample], table.task)
        >= LEAKAGE_SCORE_MIN
    ]
    if not leaks:
        return GuardrailCheck(
            "label_leakage", CheckStatus.PASSED, "no column predicts the label alone"
        )
    if len(leaks) == table.features.shape[1]:
        return _failed(
            "label_leakage",
            f"every feature column ({_quoted(leaks)}) predicts the label alone",
            "add columns known before the label is, or use those columns as the model",
        )
    _drop_columns(table, leaks)
    return GuardrailCheck(
        "label_leakage",
        CheckStatus.ALERTED,
        f"{_quoted(leaks)} alone predict the label (score ≥ {LEAKAGE_SCORE_MIN}): left out of"
        " the features, as they would not be known when predicting",
        "if such a column is known at prediction time, it is the model: AutoML is not needed",
        tuple(leaks),
    )


def _duplicate_rows(table: CheckedTable) -> GuardrailCheck:
    both = pd.concat([table.features, table.label.rename("__label__")], axis=1)
    duplicated = both.duplicated()
    if not duplicated.any():
        return GuardrailCheck("duplicate_rows", CheckStatus.PASSED, "no duplicate rows")
    _keep_rows(table, ~duplicated)
    return GuardrailCheck(
        "duplicate_rows",
        CheckStatus.DONE,
        f"{int(duplicated.sum())} duplicate rows removed, so that no row is in both training"
        " and validation",
    )


def _features_left(table: CheckedTable) -> GuardrailCheck:
    if table.features.shape[1]:
        return GuardrailCheck(
            "features_left", CheckStatus.PASSED, f"{table.features.shape[1]} feature columns"
        )
    return _failed(
        "features_left",
        "no feature column is left after the checks above",
        "add columns that describe each row",
    )


# Helpers -----------------------------------------------------------------------------------


def is_numeric_column(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values)) and not pd.api.types.is_bool_dtype(values)


def _one_column_score(values: pd.Series, label: pd.Series, task: str) -> float:
    """How well a shallow tree on this column alone predicts the label (cross-validated)."""
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    numbers = values if is_numeric_column(values) else pd.Series(pd.factorize(values)[0])
    x = np.asarray(numbers, dtype=float).reshape(-1, 1)
    model = DecisionTreeClassifier if task == CLASSIFICATION else DecisionTreeRegressor
    scoring = "balanced_accuracy" if task == CLASSIFICATION else "r2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(
            model(max_depth=4, random_state=0),
            x,
            np.asarray(label),
            cv=KFold(3, shuffle=True, random_state=0),
            scoring=scoring,
        )
    return float(np.nanmean(scores)) if not np.isnan(scores).all() else 0.0


def _dropped(name: str, table: CheckedTable, columns: list[str], why: str) -> GuardrailCheck:
    if not columns:
        return GuardrailCheck(name, CheckStatus.PASSED, "none found")
    _drop_columns(table, columns)
    return GuardrailCheck(
        name, CheckStatus.DONE, f"{_quoted(columns)} {why}: left out", columns=tuple(columns)
    )


def _drop_columns(table: CheckedTable, columns: list[str]) -> None:
    table.features = table.features.drop(columns=columns)


def _keep_rows(table: CheckedTable, keep: pd.Series) -> None:
    table.features = table.features[keep]
    table.label = table.label[keep]


def _quoted(columns: list[str]) -> str:
    return ", ".join(repr(column) for column in columns)


def _failed(name: str, detail: str, fix: str) -> GuardrailCheck:
    return GuardrailCheck(name, CheckStatus.FAILED, detail, fix)


Check = Callable[[CheckedTable], GuardrailCheck]
_FEATURE_CHECKS: Final[tuple[Check, ...]] = (
    _all_missing_columns,
    _constant_columns,
    _high_cardinality,
    _missing_values,
)
_CHECKS: Final[dict[str, tuple[Check, ...]]] = {
    CLASSIFICATION: (
        _label_values,
        _label_classes,
        *_FEATURE_CHECKS,
        _features_left,
        _duplicate_rows,
        _rows_per_class,
        _class_imbalance,
        _label_leakage,
    ),
    REGRESSION: (
        _label_values,
        _numeric_target,
        *_FEATURE_CHECKS,
        _features_left,
        _duplicate_rows,
        _label_leakage,
    ),
}
