"""Permutation importance's repeats follow the time it may take, and no limit is no limit."""

from __future__ import annotations

import math

from modelyard.tabular.importance import REPEATS, repeats_for


def test_repeats_fit_the_time_given_and_no_limit_takes_them_all() -> None:
    assert repeats_for(math.inf, scoring_s=0.01, columns=4) == REPEATS
    assert repeats_for(0.08, scoring_s=0.01, columns=4) == 2  # 0.04 s a repeat
    assert repeats_for(0.0, scoring_s=0.01, columns=4) == 1  # one repeat whatever it takes
