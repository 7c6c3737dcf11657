from __future__ import annotations

import pytest

from modelyard.errors import InvalidValue
from modelyard.tabular.validation import choose_validation


@pytest.mark.parametrize(
    ("rows", "method", "folds"),
    [(150, "cv", 10), (999, "cv", 10), (1_000, "cv", 3), (19_999, "cv", 3), (20_000, "holdout", 0)],
)
def test_azures_choice_by_rows(rows: int, method: str, folds: int) -> None:
    chosen = choose_validation(rows)
    assert (chosen.method, chosen.folds) == (method, folds)
    if method == "holdout":
        assert chosen.holdout_fraction == 0.1


def test_asked_for_holdout_or_folds_is_kept() -> None:
    assert choose_validation(150, "holdout").method == "holdout"
    assert choose_validation(50_000, "cv", folds=4).folds == 4
    assert choose_validation(50_000, folds=5).method == "cv"


def test_folds_are_capped_by_the_smallest_class_and_say_so() -> None:
    chosen = choose_validation(150, smallest_class=4)
    assert chosen.folds == 4
    assert "the smallest class has 4 rows" in chosen.note


def test_bad_validation_settings_are_one_line() -> None:
    with pytest.raises(InvalidValue, match="choose cv or holdout"):
        choose_validation(100, "kfold")
    with pytest.raises(InvalidValue, match="too few"):
        choose_validation(100, folds=1)
    with pytest.raises(InvalidValue, match="at least 2 rows of every class"):
        choose_validation(100, smallest_class=1)
