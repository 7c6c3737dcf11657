"""How the candidates are validated, as Azure AutoML chooses it: cross-validation under 20,000
rows (10 folds under 1,000 rows, 3 above), a 10 % holdout from 20,000 rows on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from modelyard.errors import InvalidValue

CV_ROWS_MAX: Final = 20_000  # from here on: a holdout
TEN_FOLDS_ROWS_MAX: Final = 1_000  # under this: 10 folds
SMALL_TABLE_FOLDS: Final = 10
DEFAULT_FOLDS: Final = 3
HOLDOUT_FRACTION: Final = 0.1
MIN_FOLDS: Final = 2
VALIDATION_METHODS: Final = ("auto", "cv", "holdout")


@dataclass(frozen=True)
class Validation:
    method: str  # "cv" or "holdout"
    folds: int = 0  # for "cv"
    holdout_fraction: float = 0.0  # for "holdout"
    note: str = ""  # why the folds were fewer than asked, when they were

    def describe(self) -> str:
        if self.method == "cv":
            return f"{self.folds}-fold cross-validation"
        return f"a {self.holdout_fraction:.0%} holdout"


def choose_validation(
    rows: int,
    method: str = "auto",
    folds: int | None = None,
    smallest_class: int | None = None,
) -> Validation:
    """`rows` after the guardrails; `smallest_class` (classification) caps the folds, as each
    stratified fold needs a row of every class."""
    if method not in VALIDATION_METHODS:
        raise InvalidValue(
            f"--validation {method!r} is not a validation method: choose cv or holdout",
            validation=method,
        )
    if folds is not None and folds < MIN_FOLDS:
        raise InvalidValue(
            f"n_cross_validations {folds} is too few: give {MIN_FOLDS} or more", folds=folds
        )
    if method == "holdout" or (method == "auto" and folds is None and rows >= CV_ROWS_MAX):
        return Validation("holdout", holdout_fraction=HOLDOUT_FRACTION)
    chosen = folds or (SMALL_TABLE_FOLDS if rows < TEN_FOLDS_ROWS_MAX else DEFAULT_FOLDS)
    return _capped(Validation("cv", folds=chosen), rows, smallest_class)


def _capped(validation: Validation, rows: int, smallest_class: int | None) -> Validation:
    cap = min(rows, smallest_class) if smallest_class is not None else rows
    if validation.folds <= cap:
        return validation
    if cap < MIN_FOLDS:
        raise InvalidValue(
            f"{rows} rows (smallest class {smallest_class}) are too few to validate: give at"
            f" least {MIN_FOLDS} rows of every class",
            rows=rows,
        )
    note = f"{cap} folds instead of {validation.folds}: the smallest class has {cap} rows"
    return Validation("cv", folds=cap, note=note)
