"""A batch's points are judged one by one, however many share a name."""

from __future__ import annotations

import math

import pytest

from modelyard.entities import Metric, limits
from modelyard.entities.validation import check_batch
from modelyard.errors import InvalidValue

GOOD = Metric("loss", 0.5, 3, 1_700_000_000.0)


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (Metric("loss", 0.5, 4, math.nan), "is not a time"),
        (Metric("loss", 0.5, 4, math.inf), "is not a time"),
        (Metric("loss", 0.5, 4, -0.5), "is not a time"),
        (Metric("loss", 0.5, -1, 0.0), "use an integer step"),
        (Metric("loss", 0.5, 2.0, 0.0), "use an integer step"),  # type: ignore[arg-type]
        (Metric("loss", False, 4, 0.0), "log a number"),
        (Metric("loss", "0.5", 4, 0.0), "log a number"),  # type: ignore[arg-type]
        (Metric(" loss", 0.5, 4, 0.0), "invalid metric name"),
        (Metric({"a": 1}, 0.5, 4, 0.0), "invalid metric name"),  # type: ignore[arg-type]
    ],
)
def test_each_point_is_checked_after_its_name_was_seen(bad: Metric, says: str) -> None:
    with pytest.raises(InvalidValue, match=says):
        check_batch([GOOD, GOOD, bad], None, None)


def test_numbers_of_other_types_within_bounds_pass() -> None:
    check_batch(
        [
            GOOD,
            Metric("loss", 1, 0, 0),  # ints for the value and the time
            Metric("loss", math.nan, limits.STEP_MAX, float(limits.TIMESTAMP_MAX)),
            Metric("loss", -math.inf, 0, 0.0),
        ],
        None,
        None,
    )
